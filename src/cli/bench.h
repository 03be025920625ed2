// `hanshiro bench`: the benchmark workloads of DESIGN §9. Each run prints one
// JSON object per line (--json) with its workload name, settings and
// figures, or a human table. Numbers are measured, never asserted.
#ifndef HANSHIRO_CLI_BENCH_H_
#define HANSHIRO_CLI_BENCH_H_

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "hanshiro/status.h"

namespace hanshiro::cli {

struct BenchSettings {
  std::string workload = "all";
  bool json = false;
  std::string scratch_dir;    // where runs write (a fresh subdirectory each)
  uint64_t events = 0;        // 0: the workload's default
  int writers = 0;            // 0: the workload's default
  size_t batch = 0;           // 0: the workload's default
  size_t payload_bytes = 256;
  int runs = 3;               // timed runs per setting; the median is reported
  bool peers = true;          // run RocksDB and hnswlib beside ours, where installed
};

// One output line: ordered (name, JSON value) pairs.
class BenchLine {
 public:
  BenchLine& Add(const std::string& name, const std::string& value);
  BenchLine& Add(const std::string& name, uint64_t value);
  BenchLine& Add(const std::string& name, double value);
  BenchLine& Add(const std::string& name, bool value);
  std::string ToJson() const;
  const std::vector<std::pair<std::string, std::string>>& fields() const { return fields_; }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

// Runs the selected workload(s) and prints as they finish.
Status RunBench(const BenchSettings& settings);

// Workloads (bench_wal.cc, ...). Each hands its lines to `emit` as they are
// measured.
using EmitFn = std::function<void(const BenchLine&)>;
Status RunWalWorkload(const BenchSettings& settings, const EmitFn& emit);
Status RunVectorInsertWorkload(const BenchSettings& settings, const EmitFn& emit);
Status RunVectorSearchWorkload(const BenchSettings& settings, const EmitFn& emit);
Status RunVectorAnnWorkload(const BenchSettings& settings, const EmitFn& emit);
Status RunMemtableWorkload(const BenchSettings& settings, const EmitFn& emit);
Status RunIngestWorkload(const BenchSettings& settings, const EmitFn& emit);
Status RunGetWorkload(const BenchSettings& settings, const EmitFn& emit);
Status RunScanWorkload(const BenchSettings& settings, const EmitFn& emit);
Status RunHttpBulkWorkload(const BenchSettings& settings, const EmitFn& emit);

// Resident set size of this process, in MiB: now, and the peak so far.
double RssMb();
double PeakRssMb();
// Gives the heap that earlier runs freed back to the system (malloc_trim),
// then starts the peak over from the current RSS (Linux: /proc/self/clear_refs;
// without it the peak stays the process's). What is still allocated counts.
void ResetPeakRss();
// 4 MiB of seeded random bytes: payloads are views into it (incompressible,
// the same in every run).
std::string RandomPool();
// The p-quantile (0..1) of v.
double Percentile(std::vector<double> v, double p);

}  // namespace hanshiro::cli

#endif  // HANSHIRO_CLI_BENCH_H_
