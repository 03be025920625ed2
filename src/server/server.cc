#include "server/server.h"

#include <utility>  // before Asio: 1.74 uses std::exchange without including it

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <sys/socket.h>
#include <zlib.h>

#include <chrono>
#include <list>
#include <system_error>
#include <mutex>
#include <thread>

#include "hanshiro/version.h"
#include "server/routes.h"

namespace hanshiro::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct Server::Impl {
  DB* db;
  ServerOptions options;
  Router router;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::atomic<bool> stopping{false};
  struct Conn {
    std::thread thread;
    std::atomic<bool> done{false};
    std::atomic<int64_t> active_ms{0};  // when the connection last finished a request
    int fd = -1;
  };
  std::mutex mu;
  std::list<std::unique_ptr<Conn>> connections;  // guarded by mu

  Impl(DB* d, const ServerOptions& o) : db(d), options(o), router(d, o.api_keys) {}

  void Serve(tcp::socket& socket, Conn* conn);
  // Shuts the reading side of connections idle (or mid-request) for longer
  // than the timeout: a blocking read has no timeout of its own.
  void Watch();
  // Joins the threads of connections that ended. REQUIRES: mu held.
  void Reap();
  void JoinAll();
};

void Server::Impl::Reap() {
  for (auto it = connections.begin(); it != connections.end();) {
    if ((*it)->done.load()) {
      (*it)->thread.join();
      it = connections.erase(it);
    } else {
      ++it;
    }
  }
}

void Server::Impl::JoinAll() {
  std::list<std::unique_ptr<Conn>> all;
  {
    std::lock_guard lock(mu);
    all.swap(connections);
  }
  for (auto& c : all) {
    if (c->thread.joinable()) c->thread.join();
  }
}

namespace {

http::response<http::string_body> ToBeast(const Response& r, unsigned version, bool keep_alive) {
  http::response<http::string_body> res{static_cast<http::status>(r.status), version};
  res.set(http::field::server, "hanshiro/" + std::string(Version()));
  res.set(http::field::content_type, r.content_type);
  if (r.status == 401) res.set(http::field::www_authenticate, "Bearer");
  if (r.retry_after_s > 0) res.set(http::field::retry_after, std::to_string(r.retry_after_s));
  res.keep_alive(keep_alive);
  res.body() = r.body;
  res.prepare_payload();
  return res;
}

void SendError(tcp::socket& socket, int status, std::string_view message) {
  Response r{status, "application/json", "{\"error\":\"" + std::string(message) + "\"}"};
  beast::error_code ec;
  http::write(socket, ToBeast(r, 11, false), ec);
}

// Inflates a gzip body of at most `limit` bytes once inflated: InvalidArgument
// over the limit, Corruption for bytes that are not gzip.
Status Gunzip(std::string_view in, uint64_t limit, std::string* out) {
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) return Status::Corruption("zlib init");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  if (in.size() > UINT32_MAX) return Status::InvalidArgument("gzip body over 4 GiB");
  z.avail_in = static_cast<uInt>(in.size());
  char chunk[64 * 1024];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    z.next_out = reinterpret_cast<Bytef*>(chunk);
    z.avail_out = sizeof(chunk);
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&z);
      return Status::Corruption("not valid gzip data");
    }
    out->append(chunk, sizeof(chunk) - z.avail_out);
    if (out->size() > limit) {
      inflateEnd(&z);
      return Status::InvalidArgument("over the body limit once inflated");
    }
    if (rc == Z_OK && z.avail_in == 0 && z.avail_out != 0) {
      inflateEnd(&z);
      return Status::Corruption("gzip data ends early");
    }
  }
  inflateEnd(&z);
  if (z.avail_in != 0) return Status::Corruption("bytes after the gzip stream (one member only)");
  return Status::OK();
}

}  // namespace

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void Server::Impl::Watch() {
  while (!stopping.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const int64_t limit = NowMs() - int64_t{options.idle_timeout_s} * 1000;
    std::lock_guard lock(mu);
    for (auto& c : connections) {
      if (c->fd >= 0 && !c->done.load() && c->active_ms.load() < limit) ::shutdown(c->fd, SHUT_RD);
    }
  }
}

void Server::Impl::Serve(tcp::socket& socket, Conn* conn) {
  beast::flat_buffer buffer;
  while (!stopping.load()) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(options.max_body_bytes);
    parser.header_limit(64 * 1024);
    beast::error_code ec;
    http::read(socket, buffer, parser, ec);
    if (ec == http::error::body_limit) {
      SendError(socket, 413, "request body over the limit");
      break;
    }
    if (ec == http::error::end_of_stream || ec) {
      if (ec && ec != http::error::end_of_stream && ec != asio::error::eof &&
          ec != asio::error::connection_reset && ec.value() != EAGAIN) {
        SendError(socket, 400, "malformed HTTP request");
      }
      break;
    }
    auto req = parser.release();
    Request r{std::string(req.method_string()), std::string(req.target()), std::move(req.body()),
              std::string(req[http::field::authorization])};
    Response out;
    const std::string encoding(req[http::field::content_encoding]);
    if (!router.Authorized(r)) {
      out = router.Handle(r);  // 401, before any work on the body
    } else if (encoding == "gzip") {
      std::string plain;
      Status s = Gunzip(r.body, options.max_body_bytes, &plain);
      if (!s.ok()) {
        out = Response{s.IsInvalidArgument() ? 413 : 400, "application/json",
                       "{\"error\":\"gzip body: " + s.message() + "\"}"};
      }
      r.body = std::move(plain);
    } else if (!encoding.empty() && encoding != "identity") {
      out = Response{415, "application/json", "{\"error\":\"content encoding: only gzip\"}"};
    }
    if (out.body.empty() && out.status == 200) {
      try {
        out = router.Handle(r);
      } catch (const std::exception& e) {  // the boundary: nothing escapes to the thread
        out = Response{500, "application/json", "{\"error\":\"internal error\"}"};
      }
    }
    const bool keep = req.keep_alive() && !stopping.load();
    http::write(socket, ToBeast(out, req.version(), keep), ec);
    conn->active_ms.store(NowMs());
    if (ec || !keep) break;
  }
  beast::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_send, ignored);
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
  Stop();
  impl_->JoinAll();
  beast::error_code ec;
  impl_->acceptor.close(ec);
}

Result<std::unique_ptr<Server>> Server::Start(DB* db, const ServerOptions& options) {
  auto impl = std::make_unique<Impl>(db, options);
  beast::error_code ec;
  const auto address = asio::ip::make_address(options.bind, ec);
  if (ec) return Status::InvalidArgument("bind address '" + options.bind + "': " + ec.message());
  const tcp::endpoint endpoint{address, options.port};
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::IOError("listen on " + options.bind + ":" + std::to_string(options.port) + ": " +
                           ec.message());
  }
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

uint16_t Server::port() const { return impl_->acceptor.local_endpoint().port(); }

void Server::Run() {
  Impl& s = *impl_;
  std::thread watchdog([&s] { s.Watch(); });
  while (!s.stopping.load()) {
    beast::error_code ec;
    tcp::socket socket(s.io);
    s.acceptor.accept(socket, ec);
    if (ec) {
      if (s.stopping.load()) break;
      // Out of descriptors, say: wait rather than spin.
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    std::lock_guard lock(s.mu);
    s.Reap();  // finished connections are joined as new ones come
    if (s.connections.size() >= s.options.max_connections) {
      SendError(socket, 503, "too many connections; retry shortly");
      continue;
    }
    auto conn = std::make_unique<Impl::Conn>();
    Impl::Conn* c = conn.get();
    c->fd = socket.native_handle();
    c->active_ms.store(NowMs());
    try {
    c->thread = std::thread([&s, c, sock = std::move(socket)]() mutable {
      s.Serve(sock, c);
      {
        std::lock_guard lock(s.mu);
        c->fd = -1;  // before the close: Stop must not touch a reused descriptor
      }
      beast::error_code ignored;
      sock.close(ignored);
      c->done.store(true);
    });
    } catch (const std::system_error&) {
      continue;  // no thread to serve it: the socket closes with conn
    }
    s.connections.push_back(std::move(conn));
  }
  watchdog.join();
  s.JoinAll();
}

void Server::Stop() {
  if (impl_->stopping.exchange(true)) return;
  // Wakes every connection waiting for a request (a request being handled
  // finishes and its response is still sent), then the blocking accept: in
  // that order, so no connection is missed by the final join.
  {
    std::lock_guard lock(impl_->mu);
    for (auto& c : impl_->connections) {
      if (c->fd >= 0) ::shutdown(c->fd, SHUT_RD);
    }
  }
  ::shutdown(impl_->acceptor.native_handle(), SHUT_RDWR);
}

}  // namespace hanshiro::server
