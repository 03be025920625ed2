#include "cli/bench.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <malloc.h>
#include <random>
#include <sstream>

#include <fmt/format.h>

#include "base/json.h"
#include "cli/progress.h"

namespace hanshiro::cli {

BenchLine& BenchLine::Add(const std::string& name, const std::string& value) {
  std::string quoted;
  json::AppendString(&quoted, value);
  fields_.emplace_back(name, quoted);
  return *this;
}
BenchLine& BenchLine::Add(const std::string& name, uint64_t value) {
  fields_.emplace_back(name, std::to_string(value));
  return *this;
}
BenchLine& BenchLine::Add(const std::string& name, double value) {
  fields_.emplace_back(name, fmt::format("{:.4g}", value));
  return *this;
}
BenchLine& BenchLine::Add(const std::string& name, bool value) {
  fields_.emplace_back(name, value ? "true" : "false");
  return *this;
}

std::string BenchLine::ToJson() const {
  std::string out = "{";
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (i > 0) out += ",";
    json::AppendString(&out, fields_[i].first);
    out += ":" + fields_[i].second;
  }
  return out + "}";
}

double RssMb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      std::istringstream in(line.substr(6));
      double kb = 0;
      in >> kb;
      return kb / 1024.0;
    }
  }
  return 0;
}

std::string RandomPool() {
  std::string pool(4 << 20, '\0');
  std::mt19937_64 rng(11);
  for (char& c : pool) c = static_cast<char>(rng());
  return pool;
}

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

double PeakRssMb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return 0;
}

void ResetPeakRss() {
  malloc_trim(0);
  std::ofstream("/proc/self/clear_refs") << "5";
}

namespace {

std::string Unquote(const std::string& v) {
  return v.size() >= 2 && v.front() == '"' ? v.substr(1, v.size() - 2) : v;
}

void PrintHuman(const BenchLine& line) {
  std::string settings, figures;
  for (const auto& [name, value] : line.fields()) {
    if (name == "workload") continue;
    const bool figure = name.find("_per_s") != std::string::npos ||
                        name.find("ratio") != std::string::npos || name.ends_with("_us") ||
                        name == "rss_mb" || name == "recall" || name == "qps" || name == "skipped";
    (figure ? figures : settings) += fmt::format("{}={} ", name, Unquote(value));
  }
  std::printf("%-10s %s\n%10s %s\n", Unquote(line.fields()[0].second).c_str(), figures.c_str(), "",
              settings.c_str());
  std::fflush(stdout);
}

std::string Field(const BenchLine& line, std::string_view name) {
  for (const auto& [n, v] : line.fields()) {
    if (n == name) return Unquote(v);
  }
  return "";
}

// The summary at the end of a human run, one row per line, like the seed's
// table: the headline figure, then the settings that qualify it.
void PrintTable(const std::vector<BenchLine>& lines) {
  std::printf("\n%-20s %-28s %s\n", "workload", "result", "settings");
  for (const BenchLine& line : lines) {
    std::string result;
    if (!Field(line, "skipped").empty()) {
      result = "skipped";
    } else if (!Field(line, "events_per_s").empty()) {
      result = fmt::format("{:.0f} events/s", std::stod(Field(line, "events_per_s")));
    } else if (!Field(line, "vectors_per_s").empty()) {
      result = fmt::format("{:.0f} vectors/s", std::stod(Field(line, "vectors_per_s")));
    } else if (!Field(line, "qps").empty()) {
      result = fmt::format("{:.0f} q/s, recall {}", std::stod(Field(line, "qps")), Field(line, "recall"));
    } else if (!Field(line, "p50_us").empty()) {
      result = fmt::format("p50 {} us, p99 {} us", Field(line, "p50_us"), Field(line, "p99_us"));
    }
    if (!Field(line, "hanshiro_ratio").empty()) result += " (ours ×" + Field(line, "hanshiro_ratio") + ")";
    if (!Field(line, "qps_ratio_at_same_recall").empty()) {
      result += " (ours ×" + Field(line, "qps_ratio_at_same_recall") + " at equal recall)";
    }
    std::string settings;
    for (const char* name : {"index", "events", "n", "writers", "batch", "payload_bytes", "sync", "integrity",
                             "flushes", "dim", "k", "ef", "threads"}) {
      const std::string v = Field(line, name);
      if (!v.empty()) settings += fmt::format("{}={} ", name, v);
    }
    std::printf("%-20s %-28s %s\n", Field(line, "workload").c_str(), result.c_str(), settings.c_str());
  }
  std::fflush(stdout);
}

}  // namespace

Status RunBench(const BenchSettings& settings) {
  struct Workload {
    const char* name;
    Status (*run)(const BenchSettings&, const EmitFn&);
  };
  static constexpr Workload kWorkloads[] = {
      {"wal", RunWalWorkload},
      {"ingest", RunIngestWorkload},
      {"memtable", RunMemtableWorkload},
      {"get", RunGetWorkload},
      {"scan", RunScanWorkload},
      {"vector-insert", RunVectorInsertWorkload},
      {"vector-search", RunVectorSearchWorkload},
      {"vector-ann", RunVectorAnnWorkload},
      {"http-bulk", RunHttpBulkWorkload},
  };
  std::string names;
  bool known = settings.workload == "all";
  for (const Workload& w : kWorkloads) {
    names += std::string(names.empty() ? "" : ", ") + w.name;
    known = known || settings.workload == w.name;
  }
  if (!known) {
    return Status::InvalidArgument(fmt::format("bench: unknown workload '{}' (available: all, {})",
                                               settings.workload, names));
  }
  std::vector<BenchLine> lines;
  Progress progress;  // on a terminal: which workload runs now
  const EmitFn emit = [&](const BenchLine& line) {
    progress.Clear();
    if (settings.json) {
      std::printf("%s\n", line.ToJson().c_str());
      std::fflush(stdout);
    } else {
      PrintHuman(line);
      lines.push_back(line);
    }
  };
  std::vector<const Workload*> chosen;
  for (const Workload& w : kWorkloads) {
    if (settings.workload == "all" || settings.workload == w.name) chosen.push_back(&w);
  }
  for (size_t i = 0; i < chosen.size(); ++i) {
    progress.Update("bench", i, chosen.size(), fmt::format("running {} ({} of {})", chosen[i]->name, i + 1, chosen.size()));
    HANSHIRO_RETURN_IF_ERROR(chosen[i]->run(settings, emit));
  }
  progress.Clear();
  if (!settings.json) PrintTable(lines);
  return Status::OK();
}

}  // namespace hanshiro::cli
