// server::Router: the HTTP API of DESIGN §8 over a hanshiro::DB, as a pure
// request -> response function (no sockets), so it is tested directly.
//
// Bodies are JSON unless noted; errors are {"error": "..."} (plus "line"
// for NDJSON) with 400 for bad input, 404 for unknown ids and routes, 405
// for a known path with another method, 500 for storage errors.
// Thread-safe (the database is).
#ifndef HANSHIRO_SERVER_ROUTES_H_
#define HANSHIRO_SERVER_ROUTES_H_

#include <string>
#include <string_view>

#include "hanshiro/db.h"

namespace hanshiro::server {

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query: "/events?from=...&limit=10"
  std::string body;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

class Router {
 public:
  explicit Router(DB* db) : db_(db) {}  // borrows db
  Response Handle(const Request& request) const;

 private:
  Response PostEvents(const Request& r) const;
  Response PostBulk(const Request& r) const;
  Response GetEvent(std::string_view id) const;
  Response ListEvents(std::string_view query) const;
  Response PostCode(const Request& r) const;
  Response GetCode(std::string_view id) const;
  Response PostSimilar(const Request& r) const;
  Response PostCorrelate() const;
  Response GetCorrelations(std::string_view id) const;
  Response GetVerify() const;
  Response GetProof(std::string_view id) const;
  Response GetCheckpoint() const;

  DB* const db_;
};

// "a%20b" -> "a b"; '+' is a space.
std::string UrlDecode(std::string_view s);

}  // namespace hanshiro::server

#endif  // HANSHIRO_SERVER_ROUTES_H_
