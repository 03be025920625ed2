#include "server/server.h"

#include <utility>  // before Asio: 1.74 uses std::exchange without including it

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <sys/socket.h>
#include <zlib.h>

#include <list>
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
    int fd = -1;
  };
  std::mutex mu;
  std::list<std::unique_ptr<Conn>> connections;  // guarded by mu

  Impl(DB* d, const ServerOptions& o) : db(d), options(o), router(d, o.api_keys) {}

  void Serve(tcp::socket& socket);
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
  return Status::OK();
}

}  // namespace

void Server::Impl::Serve(tcp::socket& socket) {
  beast::flat_buffer buffer;
  {
    // A receive timeout bounds slow and idle clients.
    struct timeval tv{options.idle_timeout_s, 0};
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
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
    if (encoding == "gzip") {
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
    if (out.body.empty()) {
      try {
        out = router.Handle(r);
      } catch (const std::exception& e) {  // the boundary: nothing escapes to the thread
        out = Response{500, "application/json", "{\"error\":\"internal error\"}"};
      }
    }
    const bool keep = req.keep_alive() && !stopping.load();
    http::write(socket, ToBeast(out, req.version(), keep), ec);
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
  while (!s.stopping.load()) {
    beast::error_code ec;
    tcp::socket socket(s.io);
    s.acceptor.accept(socket, ec);
    if (ec) {
      if (s.stopping.load()) break;
      continue;
    }
    std::lock_guard lock(s.mu);
    s.Reap();  // finished connections are joined as new ones come
    auto conn = std::make_unique<Impl::Conn>();
    Impl::Conn* c = conn.get();
    c->fd = socket.native_handle();
    c->thread = std::thread([&s, c, sock = std::move(socket)]() mutable {
      s.Serve(sock);
      {
        std::lock_guard lock(s.mu);
        c->fd = -1;  // before the close: Stop must not touch a reused descriptor
      }
      beast::error_code ignored;
      sock.close(ignored);
      c->done.store(true);
    });
    s.connections.push_back(std::move(conn));
  }
  s.JoinAll();
}

void Server::Stop() {
  if (impl_->stopping.exchange(true)) return;
  // Wakes the blocking accept, and every connection waiting for a request;
  // a request being handled finishes and its response is still sent.
  ::shutdown(impl_->acceptor.native_handle(), SHUT_RDWR);
  std::lock_guard lock(impl_->mu);
  for (auto& c : impl_->connections) {
    if (c->fd >= 0) ::shutdown(c->fd, SHUT_RD);
  }
}

}  // namespace hanshiro::server
