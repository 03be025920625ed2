// The hanshiro command: one binary that serves, ingests, queries, verifies and
// benchmarks. Subcommands are added here as their modules land.
#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <exception>
#include <string>

#include "cli/bench.h"
#include "cli/data_dir.h"
#include "cli/db_commands.h"
#include "cli/serve_command.h"
#include "cli/stats_command.h"
#include "hanshiro/env.h"
#include "hanshiro/options.h"
#include "hanshiro/version.h"

namespace {

int RunStats(const std::string& data_dir, bool as_json) {
  auto stats = hanshiro::cli::CollectStats(hanshiro::Env::Default(), data_dir);
  if (!stats.ok()) {
    std::fprintf(stderr, "hanshiro stats: %s\n", stats.status().ToString().c_str());
    return 1;
  }
  const std::string out = as_json ? hanshiro::cli::FormatStatsJson(*stats) + "\n"
                                  : hanshiro::cli::FormatStatsText(*stats);
  std::fputs(out.c_str(), stdout);
  return 0;
}

int RunBenchCommand(hanshiro::cli::BenchSettings settings) {
  std::string made;
  if (settings.scratch_dir.empty()) {
    std::string pattern = (std::filesystem::temp_directory_path() / "hanshiro-bench-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      std::fprintf(stderr, "hanshiro bench: cannot create a scratch directory: %s\n",
                   std::strerror(errno));
      return 1;
    }
    settings.scratch_dir = made = pattern;
  }
  hanshiro::Status s = hanshiro::cli::RunBench(settings);
  if (!made.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(made, ec);
  }
  if (!s.ok()) {
    std::fprintf(stderr, "hanshiro bench: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}

bool IsCommand(const CLI::App& app, const std::string& name) {
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    if (sub->check_name(name)) return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"HanshiroDB: a tamper-evident database for security events", "hanshiro"};
  app.set_version_flag("--version", "hanshiro " + std::string(hanshiro::Version()));
  app.require_subcommand(1);

  std::string data_dir = hanshiro::cli::DefaultDataDir();
  bool as_json = false;
  CLI::App* stats = app.add_subcommand("stats", "Show what a data directory holds");
  stats->add_option("--data-dir", data_dir,
                    "Data directory (default: $HANSHIRO_DATA_DIR or ./data)");
  stats->add_flag("--json", as_json, "Print one JSON object");

  // Commands on a database.
  hanshiro::cli::DbArgs db_args;
  db_args.data_dir = data_dir;
  auto add_db_options = [&](CLI::App* cmd) {
    cmd->add_option("--data-dir", db_args.data_dir,
                    "Data directory (default: $HANSHIRO_DATA_DIR or ./data)");
    cmd->add_option("--preset", db_args.preset,
                    "high-performance, balanced (default) or max-durability");
    cmd->add_flag("--json", db_args.json, "Print JSON");
  };
  std::vector<std::string> ingest_files;
  std::string ingest_format = "auto";
  CLI::App* ingest = app.add_subcommand("ingest", "Ingest events, one per line (NDJSON, OCSF, ECS, Zeek, Suricata, CEF, LEEF, syslog)");
  add_db_options(ingest);
  ingest->add_option("--format", ingest_format,
                     "auto (default: each line by its shape), ndjson, ocsf, ecs, zeek, suricata, cef, leef or syslog");
  ingest->add_option("FILE", ingest_files, "Files to read ('-' or none: standard input)");
  std::string id;
  CLI::App* get = app.add_subcommand("get", "Print one event as JSON");
  add_db_options(get);
  get->add_option("ID", id, "Event id (UUID)")->required();
  hanshiro::cli::QueryArgs query_args;
  CLI::App* query = app.add_subcommand("query", "Events of a time range, with filters");
  add_db_options(query);
  query->add_option("--from", query_args.from, "From this time (RFC 3339 or Unix ms), inclusive");
  query->add_option("--to", query_args.to, "To this time, exclusive");
  query->add_option("--type", query_args.type, "Event type (DNSQuery, ... or a custom name)");
  query->add_option("--host", query_args.host, "Source host");
  query->add_option("--where", query_args.where, "Metadata key=value (repeatable)");
  query->add_option("--limit", query_args.limit, "At most this many events (default 100)");
  CLI::App* verify = app.add_subcommand("verify", "Recompute the integrity tree; exit 0 intact, 1 broken");
  add_db_options(verify);
  std::string against;
  verify->add_option("--against", against,
                     "A checkpoint exported earlier (checkpoint --out): prove the log extends it");
  std::string similar_vector, similar_like;
  size_t similar_k = 10;
  CLI::App* similar = app.add_subcommand("similar", "The nearest values to a vector or to an event");
  add_db_options(similar);
  similar->add_option("--vector", similar_vector, "Comma-separated numbers");
  similar->add_option("--like", similar_like, "An event id: its vector is the query");
  similar->add_option("--k", similar_k, "How many (default 10)")->check(CLI::Range(1, 10000));
  std::string checkpoint_out;
  CLI::App* checkpoint = app.add_subcommand("checkpoint", "Sign and export the current tree head");
  add_db_options(checkpoint);
  checkpoint->add_option("--out", checkpoint_out, "Write the signed checkpoint to this file");
  CLI::App* proof = app.add_subcommand("proof", "An inclusion proof for one value");
  add_db_options(proof);
  proof->add_option("ID", id, "Event id (UUID)")->required();

  hanshiro::cli::ServeArgs serve_args;
  serve_args.data_dir = data_dir;
  CLI::App* serve = app.add_subcommand("serve", "Serve the HTTP API (stop with SIGINT or SIGTERM)");
  serve->add_option("--data-dir", serve_args.data_dir,
                    "Data directory (default: $HANSHIRO_DATA_DIR or ./data)");
  serve->add_option("--preset", serve_args.preset, "high-performance, balanced (default) or max-durability");
  serve->add_option("--bind", serve_args.bind, "Address to listen on (default 127.0.0.1)");
  serve->add_option("--port", serve_args.port, "Port (default 3000; 0 picks a free one)");
  serve->add_option("--max-body-mb", serve_args.max_body_mb, "Largest request body, MiB (default 64)")
      ->check(CLI::Range(1, 4096));
  serve->add_option("--idle-timeout-s", serve_args.idle_timeout_s,
                    "Close connections idle (or slow sending a request) this long (default 60)")
      ->check(CLI::Range(1, 86400));
  serve->add_option("--api-key-file", serve_args.api_key_file,
                    "API keys, one per line: every route but /health then needs Authorization: Bearer KEY");

  hanshiro::cli::BenchSettings bench_settings;
  CLI::App* bench = app.add_subcommand("bench", "Measure throughput and latency (DESIGN section 9)");
  bench->add_option("--workload", bench_settings.workload, "Workload: all (default), wal, ingest, memtable, get, scan, vector-insert, vector-search, vector-ann, http-bulk");
  bench->add_flag("--json", bench_settings.json, "One JSON object per line per run");
  bench->add_option("--events", bench_settings.events, "Records per run (default per workload)");
  bench->add_option("--writers", bench_settings.writers, "Writer threads (default per workload)");
  bench->add_option("--batch", bench_settings.batch, "Records per write call (default 2000)");
  bench->add_option("--payload-bytes", bench_settings.payload_bytes, "Payload size (default 256)");
  bench->add_option("--runs", bench_settings.runs, "Timed runs per setting; the median is reported")
      ->check(CLI::Range(1, 100));
  bench->add_flag("--no-peers{false}", bench_settings.peers,
                  "Skip the RocksDB and hnswlib runs (ours alone, for profiling)");
  bench->add_option("--scratch-dir", bench_settings.scratch_dir,
                    "Directory for the runs' files (default: a fresh one under $TMPDIR, removed "
                    "afterwards)");

  if (argc == 1) {  // no command: show what there is
    std::fputs(app.help().c_str(), stderr);
    return 2;
  }
  if (argv[1][0] != '-' && !IsCommand(app, argv[1])) {
    std::fprintf(stderr, "hanshiro: unknown command '%s' (run hanshiro --help for the list)\n",
                 argv[1]);
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  try {
    if (stats->parsed()) return RunStats(data_dir, as_json);
    if (bench->parsed()) return RunBenchCommand(bench_settings);
    for (const std::string* preset : {&db_args.preset, &serve_args.preset}) {
      if (auto o = hanshiro::Options::FromPresetName(*preset); !o.ok()) {  // a usage error
        std::fprintf(stderr, "hanshiro: --preset: %s\n", o.status().message().c_str());
        return 2;
      }
    }
    if (serve->parsed()) return hanshiro::cli::RunServe(serve_args);
    if (ingest->parsed()) return hanshiro::cli::RunIngest(db_args, ingest_files, ingest_format);
    if (get->parsed()) return hanshiro::cli::RunGet(db_args, id);
    if (query->parsed()) return hanshiro::cli::RunQuery(db_args, query_args);
    if (verify->parsed()) return hanshiro::cli::RunVerify(db_args, against);
    if (similar->parsed()) return hanshiro::cli::RunSimilar(db_args, similar_vector, similar_like, similar_k);
    if (checkpoint->parsed()) return hanshiro::cli::RunCheckpoint(db_args, checkpoint_out);
    if (proof->parsed()) return hanshiro::cli::RunProof(db_args, id);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hanshiro: %s\n", e.what());
    return 1;
  }
  return 2;
}
