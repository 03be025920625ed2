// `hanshiro bench --workload http-bulk`: NDJSON bulk ingest over loopback.
// The server (src/server) on a fresh database, preset high-performance with
// 256 MiB memtables (sync off), and `writers` client connections (default
// 4) with keep-alive, each posting /events/_bulk bodies of `batch` events
// (default 2000) of `payload_bytes` random printable raw data. The bodies are
// built before the clock starts (each request only rewrites its events'
// 13-digit timestamps, so time advances as it would); parsing, writing and
// answering are timed.
#include <utility>  // before Asio: 1.74 uses std::exchange without including it

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "cli/bench.h"
#include "hanshiro/db.h"
#include "server/server.h"

namespace hanshiro::cli {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// A body of `events` lines, and where each line's 13-digit timestamp is, so
// every request can carry new times (events arrive as time goes on).
struct BulkBody {
  std::string text;
  std::vector<size_t> time_at;

  BulkBody(size_t events, size_t payload, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::string raw(payload, 'x');
    for (size_t i = 0; i < events; ++i) {
      for (char& c : raw) c = static_cast<char>('a' + rng() % 26);
      text += fmt::format("{{\"event_type\":\"DNSQuery\",\"source_host\":\"host-{}\",\"collector\":\"bench\",\"timestamp\":", i % 64);
      time_at.push_back(text.size());
      text += fmt::format("{},\"raw_data\":\"{}\"}}\n", 1'700'000'000'000 + i, raw);
    }
  }
  // Event i gets Unix ms t0 + i.
  void SetTimes(uint64_t t0) {
    for (size_t i = 0; i < time_at.size(); ++i) {
      uint64_t t = t0 + i;
      for (int d = 12; d >= 0; --d, t /= 10) text[time_at[i] + static_cast<size_t>(d)] = static_cast<char>('0' + t % 10);
    }
  }
};

}  // namespace

Status RunHttpBulkWorkload(const BenchSettings& settings, const EmitFn& emit) {
  const uint64_t n = settings.events > 0 ? settings.events : 2'000'000;
  const int clients = settings.writers > 0 ? settings.writers : 4;
  const size_t batch = settings.batch > 0 ? settings.batch : 2000;
  const std::string dir = settings.scratch_dir + "/http-bulk";
  std::vector<BulkBody> bodies;
  for (int c = 0; c < clients; ++c) bodies.emplace_back(batch, settings.payload_bytes, c + 1);
  std::vector<double> rates;
  uint64_t flushes = 0;
  for (int run = 0; run <= std::max(1, settings.runs); ++run) {  // run 0 warms up on n/5
    const uint64_t total = run == 0 ? n / 5 : n;
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    Options o = Options::HighPerformance();
    o.memtable_max_bytes = size_t{256} << 20;
    HANSHIRO_ASSIGN_OR_RETURN(std::unique_ptr<DB> db, DB::Open(o, dir));
    server::ServerOptions so;
    so.port = 0;
    HANSHIRO_ASSIGN_OR_RETURN(auto srv, server::Server::Start(db.get(), so));
    std::thread serving([&] { srv->Run(); });
    const uint16_t port = srv->port();
    std::atomic<uint64_t> next{0};
    std::mutex mu;
    Status first_error;
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c) {
      threads.emplace_back([&, c] {
        try {
          asio::io_context io;
          tcp::socket socket(io);
          socket.connect({asio::ip::make_address("127.0.0.1"), port});
          beast::flat_buffer buffer;
          for (uint64_t first; (first = next.fetch_add(batch)) < total;) {
            bodies[c].SetTimes(1'700'000'000'000 + first);  // the clients share one clock
            http::request<http::string_body> req{http::verb::post, "/events/_bulk", 11};
            req.set(http::field::host, "127.0.0.1");
            req.set(http::field::content_type, "application/x-ndjson");
            req.keep_alive(true);
            req.body() = bodies[c].text;
            req.prepare_payload();
            http::write(socket, req);
            http::response<http::string_body> res;
            http::read(socket, buffer, res);
            if (res.result_int() != 200 || res.body().find("\"errors\":0") == std::string::npos) {
              throw std::runtime_error(fmt::format("bulk answered {}: {}", res.result_int(),
                                                   res.body().substr(0, 200)));
            }
          }
        } catch (const std::exception& e) {
          std::lock_guard lock(mu);
          first_error = Status::IOError(std::string("http-bulk client: ") + e.what());
        }
      });
    }
    for (auto& t : threads) t.join();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    srv->Stop();
    serving.join();
    HANSHIRO_RETURN_IF_ERROR(first_error);
    flushes = db->Stats().flushes;
    const uint64_t written = db->Stats().records;
    if (run > 0) rates.push_back(static_cast<double>(written) / seconds);
    srv.reset();
    db.reset();
    std::filesystem::remove_all(dir, ec);
  }
  std::sort(rates.begin(), rates.end());
  BenchLine line;
  line.Add("workload", std::string("http-bulk"))
      .Add("events", n)
      .Add("writers", static_cast<uint64_t>(clients))
      .Add("batch", static_cast<uint64_t>(batch))
      .Add("payload_bytes", static_cast<uint64_t>(settings.payload_bytes))
      .Add("sync", false)
      .Add("integrity", true)
      .Add("preset", std::string("high-performance"))
      .Add("flushes", flushes)
      .Add("runs", static_cast<uint64_t>(rates.size()))
      .Add("events_per_s", rates[rates.size() / 2])
      .Add("min_events_per_s", rates.front())
      .Add("max_events_per_s", rates.back())
      .Add("rss_mb", RssMb());
  emit(line);
  return Status::OK();
}

}  // namespace hanshiro::cli
