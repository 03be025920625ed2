// The server over a real loopback socket, where a test needs control over the
// database beneath it: back-pressure while a flush is held back.
#include "server/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "env/test_dir.h"

namespace hanshiro::server {
namespace {

// Passes everything to the default Env, except that creating a table file
// waits while `hold` is set: the flush stays behind and writes stall.
class HoldTablesEnv final : public Env {
 public:
  void Hold(bool on) {
    std::lock_guard lock(mu_);
    hold_ = on;
    cv_.notify_all();
  }

  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override {
    if (path.find("/tables/") != std::string::npos) {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return !hold_; });
    }
    return base_->NewWritableFile(path);
  }
  Result<std::unique_ptr<SequentialFile>> NewSequentialFile(const std::string& p) override {
    return base_->NewSequentialFile(p);
  }
  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& p) override {
    return base_->NewRandomAccessFile(p);
  }
  Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& p) override {
    return base_->NewAppendableFile(p);
  }
  bool FileExists(const std::string& p) override { return base_->FileExists(p); }
  Result<bool> IsDirectory(const std::string& p) override { return base_->IsDirectory(p); }
  Result<std::vector<std::string>> GetChildren(const std::string& d) override { return base_->GetChildren(d); }
  Result<uint64_t> GetFileSize(const std::string& p) override { return base_->GetFileSize(p); }
  Status RemoveFile(const std::string& p) override { return base_->RemoveFile(p); }
  Status CreateDirIfMissing(const std::string& d) override { return base_->CreateDirIfMissing(d); }
  Status RemoveDir(const std::string& d) override { return base_->RemoveDir(d); }
  Status RenameFile(const std::string& f, const std::string& t) override { return base_->RenameFile(f, t); }
  Status TruncateFile(const std::string& p, uint64_t n) override { return base_->TruncateFile(p, n); }
  Status RestrictToOwner(const std::string& p) override { return base_->RestrictToOwner(p); }
  Status SyncDir(const std::string& d) override { return base_->SyncDir(d); }
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& p) override { return base_->LockFile(p); }

 private:
  Env* base_ = Env::Default();
  std::mutex mu_;
  std::condition_variable cv_;
  bool hold_ = false;
};

struct Reply {
  int status = 0;
  std::string headers;
  std::string body;
};

// One keep-alive HTTP/1.1 connection; a reply that takes over 10 s fails.
class Client {
 public:
  explicit Client(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~Client() { ::close(fd_); }

  std::optional<Reply> Post(const std::string& target, const std::string& body) {
    return Send("POST " + target + " HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(body.size()) +
                "\r\n\r\n" + body);
  }
  std::optional<Reply> Get(const std::string& target) {
    return Send("GET " + target + " HTTP/1.1\r\nHost: t\r\n\r\n");
  }

 private:
  std::optional<Reply> Send(const std::string& request) {
    if (!connected_ || ::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
      return std::nullopt;
    }
    size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return std::nullopt;
    }
    Reply r;
    r.headers = buf_.substr(0, end);
    r.status = std::stoi(r.headers.substr(9, 3));
    size_t length = 0;
    for (std::string name : {"Content-Length: ", "content-length: "}) {
      if (size_t at = r.headers.find(name); at != std::string::npos) length = std::stoul(r.headers.substr(at + name.size()));
    }
    while (buf_.size() < end + 4 + length) {
      if (!Fill()) return std::nullopt;
    }
    r.body = buf_.substr(end + 4, length);
    buf_.erase(0, end + 4 + length);
    return r;
  }
  bool Fill() {
    char chunk[4096];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buf_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string buf_;
};

TEST(ServerTest, WritesGet429WithRetryAfterWhileAFlushIsBehindAndNothingAcknowledgedIsLost) {
  ::hanshiro::testing::TestDir dir;
  HoldTablesEnv env;
  Options o = Options::Balanced();
  o.env = &env;
  o.sync_on_write = false;
  o.group_commit_delay_us = 0;
  o.memtable_max_entries = 20;
  o.flush_interval_ms = 0;
  o.compaction_interval_ms = 0;
  auto db = DB::Open(o, dir.path());
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  ServerOptions so;
  so.port = 0;
  auto server = Server::Start(db->get(), so);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  std::thread run([&] { (*server)->Run(); });
  struct Stop {  // also on a failed assertion: never leave the flush held or the server running
    HoldTablesEnv* env;
    Server* server;
    std::thread* run;
    ~Stop() {
      env->Hold(false);
      server->Stop();
      run->join();
    }
  } stop{&env, server->get(), &run};

  env.Hold(true);
  Client c((*server)->port());
  std::vector<std::string> acked;
  std::optional<Reply> busy;
  for (int i = 0; i < 200 && !busy; ++i) {
    auto r = c.Post("/events", "{\"raw_data\":\"e" + std::to_string(i) + "\"}");
    ASSERT_TRUE(r.has_value()) << "no reply to write " << i << " (a write stalled in the server?)";
    if (r->status == 429) {
      busy = r;
    } else {
      ASSERT_EQ(r->status, 200) << r->body;
      const size_t at = r->body.find("\"ids\":[\"");
      ASSERT_NE(at, std::string::npos) << r->body;
      acked.push_back(r->body.substr(at + 8, 36));
    }
  }
  ASSERT_TRUE(busy.has_value()) << "no 429 after 200 writes with the flush held";
  EXPECT_GE(acked.size(), 40u);  // one memtable flushing, one more filled
  EXPECT_NE(busy->headers.find("Retry-After: 1"), std::string::npos) << busy->headers;
  EXPECT_NE(busy->body.find("retry"), std::string::npos) << busy->body;
  // Bulk and binary writes are refused whole too; reads still answer.
  auto bulk = c.Post("/events/_bulk", "{\"raw_data\":\"b1\"}\n{\"raw_data\":\"b2\"}\n");
  ASSERT_TRUE(bulk.has_value());
  EXPECT_EQ(bulk->status, 429);
  auto read = c.Get("/events/" + acked.front());
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->status, 200);

  env.Hold(false);  // the flush goes on; writes are taken again
  std::optional<Reply> after;
  for (int i = 0; i < 500; ++i) {
    after = c.Post("/events", "{\"raw_data\":\"after\"}");
    ASSERT_TRUE(after.has_value());
    if (after->status != 429) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(after->status, 200) << after->body;
  for (const std::string& id : acked) {
    auto r = c.Get("/events/" + id);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 200) << id;
  }
  // Exactly the acknowledged events and the last one: nothing refused was kept.
  auto all = c.Get("/events?limit=1000");
  ASSERT_TRUE(all.has_value());
  size_t count = 0;
  for (size_t at = 0; (at = all->body.find("\"raw_data\":", at)) != std::string::npos; ++at) ++count;
  EXPECT_EQ(count, acked.size() + 1) << all->body.substr(0, 400);
  EXPECT_EQ(all->body.find("\"b1\""), std::string::npos);
}

}  // namespace
}  // namespace hanshiro::server
