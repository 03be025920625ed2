// server::Server: HTTP/1.1 on Boost.Beast over a hanshiro::DB (routes.h).
//
// One thread accepts; each connection gets a thread that reads requests in
// a keep-alive loop, so a slow client holds only its own thread; a watchdog
// closes connections idle (or slow with a request) past the timeout, and
// connections over the cap get 503. Bodies over `max_body_bytes` get 413 and the
// connection closes. Stop() (from a signal handler thread) stops accepting,
// lets requests in progress finish, and returns from Run.
#ifndef HANSHIRO_SERVER_SERVER_H_
#define HANSHIRO_SERVER_SERVER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hanshiro/db.h"

namespace hanshiro::server {

struct ServerOptions {
  std::string bind = "127.0.0.1";
  uint16_t port = 3000;  // 0: any free port (see port())
  uint64_t max_body_bytes = 64ull << 20;
  int idle_timeout_s = 60;   // idle, or slow sending a request: the connection closes
  size_t max_connections = 1024;  // more get 503
  std::vector<Hash256> api_keys;  // hashes (LoadApiKeys); empty: no keys needed
};

class Server {
 public:
  // Borrows db, which must outlive the server.
  static Result<std::unique_ptr<Server>> Start(DB* db, const ServerOptions& options);
  ~Server();
  // Serves until Stop; returns once every connection thread ended.
  void Run();
  void Stop();
  uint16_t port() const;

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace hanshiro::server

#endif  // HANSHIRO_SERVER_SERVER_H_
