#include "cli/serve_command.h"

#include <csignal>
#include <cstdio>
#include <thread>

#include "hanshiro/db.h"
#include "server/routes.h"
#include "server/server.h"

namespace hanshiro::cli {

int RunServe(const ServeArgs& args) {
  // Signals go to one waiting thread, not to whichever thread runs.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto options = Options::FromPresetName(args.preset);
  if (!options.ok()) {
    std::fprintf(stderr, "hanshiro serve: %s\n", options.status().message().c_str());
    return 2;
  }
  auto db = DB::Open(*options, args.data_dir);
  if (!db.ok()) {
    std::fprintf(stderr, "hanshiro serve: cannot open %s: %s\n", args.data_dir.c_str(),
                 db.status().ToString().c_str());
    return 1;
  }
  server::ServerOptions so;
  if (!args.api_key_file.empty()) {
    auto keys = server::LoadApiKeys(args.api_key_file);
    if (!keys.ok()) {
      std::fprintf(stderr, "hanshiro serve: %s\n", keys.status().ToString().c_str());
      return 2;
    }
    so.api_keys = std::move(keys).value();
  }
  so.bind = args.bind;
  so.idle_timeout_s = args.idle_timeout_s;
  so.port = args.port;
  so.max_body_bytes = args.max_body_mb << 20;
  auto server = server::Server::Start(db->get(), so);
  if (!server.ok()) {
    std::fprintf(stderr, "hanshiro serve: %s\n", server.status().ToString().c_str());
    return 1;
  }
  std::fprintf(stderr, "hanshiro serve: listening on http://%s:%u (data directory %s, preset %s)\n",
               args.bind.c_str(), static_cast<unsigned>((*server)->port()), args.data_dir.c_str(),
               args.preset.c_str());
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    std::fprintf(stderr, "hanshiro serve: %s: stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    (*server)->Stop();
  });
  (*server)->Run();
  waiter.join();
  server->reset();
  Status s = (*db)->Flush();
  db->reset();  // syncs the log and signs a final checkpoint
  if (!s.ok()) {
    std::fprintf(stderr, "hanshiro serve: flush at shutdown: %s\n", s.ToString().c_str());
    return 1;
  }
  std::fprintf(stderr, "hanshiro serve: stopped cleanly\n");
  return 0;
}

}  // namespace hanshiro::cli
