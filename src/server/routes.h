// server::Router: the HTTP API of DESIGN §8 over a hanshiro::DB, as a pure
// request -> response function (no sockets), so it is tested directly.
//
// Bodies are JSON unless noted; errors are {"error": "..."} (plus "line"
// for NDJSON) with 400 for bad input, 401 without a valid API key (when
// keys are set), 404 for unknown ids and routes, 405 for a known path with
// another method, 429 (Retry-After) while writes are stalled, 500 for
// storage errors.
// Thread-safe (the database is).
#ifndef HANSHIRO_SERVER_ROUTES_H_
#define HANSHIRO_SERVER_ROUTES_H_

#include <string>
#include <string_view>
#include <vector>

#include "hanshiro/db.h"

namespace hanshiro::server {

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query: "/events?from=...&limit=10"
  std::string body;
  std::string authorization;  // the Authorization header, if any
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  int retry_after_s = 0;  // a Retry-After header when > 0 (429)
};

// API keys: the BLAKE3 hashes of the keys in a key file (one per line;
// blank lines and lines starting with '#' skipped). Only hashes are kept.
Result<std::vector<Hash256>> LoadApiKeys(const std::string& path);

class Router {
 public:
  // Borrows db. With api_keys, every route but /health needs
  // "Authorization: Bearer KEY" for one of them (401 otherwise).
  explicit Router(DB* db, std::vector<Hash256> api_keys = {})
      : db_(db), api_keys_(std::move(api_keys)) {}
  Response Handle(const Request& request) const;
  // Whether Handle would serve it (no keys, a valid key, or /health).
  bool Authorized(const Request& request) const;

 private:
  Response PostEvents(const Request& r) const;
  Response PostBulk(const Request& r, std::string_view query) const;
  Response GetEvent(std::string_view id) const;
  Response ListEvents(std::string_view query) const;
  Response PostCode(const Request& r) const;
  Response GetCode(std::string_view id) const;
  Response PostSimilar(const Request& r) const;
  Response PostBinary(const Request& r, ValueKind kind) const;
  Response GetBinaryEvent(std::string_view id) const;
  Response PostCorrelate() const;
  Response GetCorrelations(std::string_view id) const;
  Response GetVerify() const;
  Response GetProof(std::string_view id) const;
  Response GetCheckpoint() const;

  bool KeyValid(const Request& r) const;

  DB* const db_;
  const std::vector<Hash256> api_keys_;
};

// The JSON the API and the command line print for a verify report and a
// signed tree head.
std::string VerifyJson(const VerifyResult& v);
std::string CheckpointJson(const CheckpointInfo& cp);

// "a%20b" -> "a b"; '+' is a space.
std::string UrlDecode(std::string_view s);

}  // namespace hanshiro::server

#endif  // HANSHIRO_SERVER_ROUTES_H_
