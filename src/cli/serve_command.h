// `hanshiro serve`: the HTTP API on a database until SIGINT or SIGTERM, then
// a graceful stop: no new connections, requests in progress answered, the
// memtable flushed and the log synced and checkpointed.
#ifndef HANSHIRO_CLI_SERVE_COMMAND_H_
#define HANSHIRO_CLI_SERVE_COMMAND_H_

#include <cstdint>
#include <string>

namespace hanshiro::cli {

struct ServeArgs {
  std::string data_dir;
  std::string preset = "balanced";
  std::string bind = "127.0.0.1";
  uint16_t port = 3000;
  uint64_t max_body_mb = 64;
  std::string api_key_file;  // one key per line; empty: no keys
  int idle_timeout_s = 60;
};

int RunServe(const ServeArgs& args);

}  // namespace hanshiro::cli

#endif  // HANSHIRO_CLI_SERVE_COMMAND_H_
