// The subcommands that open a database: ingest, get, query, verify,
// checkpoint, proof. Each returns the process exit code: 0 success; 1 a
// failure the command reports (not found, bad lines, integrity broken);
// 2 bad usage.
#ifndef HANSHIRO_CLI_DB_COMMANDS_H_
#define HANSHIRO_CLI_DB_COMMANDS_H_

#include <string>
#include <vector>

namespace hanshiro::cli {

struct DbArgs {
  std::string data_dir;
  std::string preset = "balanced";
  bool json = false;
};

struct QueryArgs {
  std::string from, to, type, host;
  std::vector<std::string> where;  // "key=value"
  size_t limit = 100;
};

// Lines of events from the files ("-" or none: stdin) in one of the formats
// of ingest/formats.h ("auto" recognises each line).
int RunIngest(const DbArgs& db, const std::vector<std::string>& files, const std::string& format);
int RunGet(const DbArgs& db, const std::string& id);
int RunQuery(const DbArgs& db, const QueryArgs& query);
// With `against` (a file from `checkpoint --out`), also proves the log
// extends that checkpoint.
int RunVerify(const DbArgs& db, const std::string& against);
// --vector "v1,v2,..." or --like ID; k nearest values.
int RunSimilar(const DbArgs& db, const std::string& vector, const std::string& like, size_t k);
int RunCheckpoint(const DbArgs& db, const std::string& out_file);
int RunProof(const DbArgs& db, const std::string& id);

}  // namespace hanshiro::cli

#endif  // HANSHIRO_CLI_DB_COMMANDS_H_
