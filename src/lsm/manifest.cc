#include "lsm/manifest.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <set>

#include <fmt/format.h>

#include "base/coding.h"
#include "base/crc32c.h"

namespace hanshiro::lsm {

bool TableMeta::MayHoldId(std::string_view id) const {
  return std::memcmp(id.data(), min_id.data(), 16) >= 0 &&
         std::memcmp(id.data(), max_id.data(), 16) <= 0;
}

uint64_t Version::TotalBytes() const {
  uint64_t total = 0;
  for (const TableMeta& t : tables) total += t.file_size;
  return total;
}

void Version::Sort() {
  std::sort(tables.begin(), tables.end(), [](const TableMeta& a, const TableMeta& b) {
    if (a.level != b.level) return a.level < b.level;
    if (a.level == 0) return a.number < b.number;
    if (a.partition != b.partition) return a.partition < b.partition;
    return a.min_key < b.min_key;
  });
}

namespace manifest {

namespace {

constexpr size_t kHeaderSize = 16;  // magic | version | body length

void PutTable(std::string* out, const TableMeta& t) {
  PutVarint64(out, t.number);
  out->push_back(static_cast<char>(t.level));
  PutFixed64(out, static_cast<uint64_t>(t.partition));
  PutVarint64(out, t.file_size);
  PutVarint64(out, t.entries);
  out->append(t.min_key);
  out->append(t.max_key);
  PutVarint64(out, t.min_seq);
  PutVarint64(out, t.max_seq);
  out->append(reinterpret_cast<const char*>(t.min_id.data()), 16);
  out->append(reinterpret_cast<const char*>(t.max_id.data()), 16);
  PutFixed64(out, static_cast<uint64_t>(t.min_time));
  PutFixed64(out, static_cast<uint64_t>(t.max_time));
}

bool ReadI64(ByteReader* r, int64_t* v) {
  uint64_t u;
  if (!r->ReadFixed64(&u)) return false;
  *v = static_cast<int64_t>(u);
  return true;
}

bool ReadString(ByteReader* r, size_t n, std::string* out) {
  std::string_view s;
  if (!r->ReadBytes(n, &s)) return false;
  out->assign(s);
  return true;
}

bool ReadId(ByteReader* r, std::array<uint8_t, 16>* id) {
  std::string_view s;
  if (!r->ReadBytes(16, &s)) return false;
  std::memcpy(id->data(), s.data(), 16);
  return true;
}

bool ReadTable(ByteReader* r, TableMeta* t) {
  uint8_t level;
  if (!r->ReadVarint64(&t->number) || !r->ReadU8(&level) || !ReadI64(r, &t->partition) ||
      !r->ReadVarint64(&t->file_size) || !r->ReadVarint64(&t->entries) ||
      !ReadString(r, 25, &t->min_key) || !ReadString(r, 25, &t->max_key) ||
      !r->ReadVarint64(&t->min_seq) || !r->ReadVarint64(&t->max_seq) || !ReadId(r, &t->min_id) ||
      !ReadId(r, &t->max_id) || !ReadI64(r, &t->min_time) || !ReadI64(r, &t->max_time)) {
    return false;
  }
  t->level = level;
  return true;
}

bool ReadDropped(ByteReader* r, DroppedPartition* d) {
  return ReadI64(r, &d->partition) && r->ReadVarint64(&d->tables) &&
         r->ReadVarint64(&d->entries) && r->ReadVarint64(&d->bytes) &&
         r->ReadVarint64(&d->min_seq) && r->ReadVarint64(&d->max_seq) &&
         ReadI64(r, &d->dropped_at_ns);
}

bool ValidWindow(int64_t w) { return w == kHourNs || w == kSixHoursNs || w == kDayNs; }

// [MAN-3]..[MAN-6]; nullptr when they hold.
std::string CheckRules(const Version& v) {
  if (!ValidWindow(v.window_ns)) return fmt::format("window_ns {} [MAN-3]", v.window_ns);
  std::set<uint64_t> numbers;
  std::map<int64_t, std::vector<const TableMeta*>> level1;
  for (const TableMeta& t : v.tables) {
    const std::string name = fmt::format("table {:06d}", t.number);
    if (t.number >= v.next_table || !numbers.insert(t.number).second) {
      return name + ": number repeated or not below next_table [MAN-3]";
    }
    if (t.level > 1 || t.entries == 0 || t.min_key > t.max_key || t.min_seq > t.max_seq ||
        t.min_id > t.max_id || t.min_time > t.max_time || t.min_time < 0 ||
        t.partition != PartitionOf(t.min_time, v.window_ns) ||
        t.max_time - t.partition >= v.window_ns) {
      return name + ": level, counts, ranges or partition [MAN-4]";
    }
    if (t.level == 1) level1[t.partition].push_back(&t);
  }
  for (auto& [partition, tables] : level1) {
    std::sort(tables.begin(), tables.end(),
              [](const TableMeta* a, const TableMeta* b) { return a->min_key < b->min_key; });
    for (size_t i = 1; i < tables.size(); ++i) {
      if (tables[i]->min_key <= tables[i - 1]->max_key) {
        return fmt::format("tables {:06d} and {:06d} overlap in level 1 [MAN-5]",
                           tables[i - 1]->number, tables[i]->number);
      }
    }
  }
  std::set<int64_t> dropped;
  for (const DroppedPartition& d : v.dropped) {
    if (d.partition < 0 || d.partition % v.window_ns != 0 || !dropped.insert(d.partition).second) {
      return fmt::format("dropped partition {} is not a window start or repeats [MAN-6]",
                         d.partition);
    }
  }
  return {};
}

}  // namespace

std::string Encode(const Version& v) {
  std::string body;
  PutVarint64(&body, v.edit);
  PutVarint64(&body, static_cast<uint64_t>(v.window_ns));
  PutVarint64(&body, v.next_table);
  PutVarint64(&body, v.wal_position);
  PutVarint32(&body, static_cast<uint32_t>(v.tables.size()));
  for (const TableMeta& t : v.tables) PutTable(&body, t);
  PutVarint32(&body, static_cast<uint32_t>(v.dropped.size()));
  for (const DroppedPartition& d : v.dropped) {
    PutFixed64(&body, static_cast<uint64_t>(d.partition));
    PutVarint64(&body, d.tables);
    PutVarint64(&body, d.entries);
    PutVarint64(&body, d.bytes);
    PutVarint64(&body, d.min_seq);
    PutVarint64(&body, d.max_seq);
    PutFixed64(&body, static_cast<uint64_t>(d.dropped_at_ns));
  }
  std::string out(kMagic);
  PutFixed32(&out, kVersion);
  PutFixed32(&out, static_cast<uint32_t>(body.size()));
  out += body;
  PutFixed32(&out, crc32c::Mask(crc32c::Value(out)));
  return out;
}

Result<Version> Decode(std::string_view b, std::string_view where) {
  auto bad = [&](std::string_view what) {
    return Status::Corruption(fmt::format("{}: {}", where, what));
  };
  if (b.size() < kHeaderSize + 4 || b.substr(0, 8) != kMagic) return bad("bad magic [MAN-1]");
  if (DecodeFixed32(b.data() + 8) != kVersion) {
    return bad(fmt::format("unsupported version {} [MAN-1]", DecodeFixed32(b.data() + 8)));
  }
  if (DecodeFixed32(b.data() + 12) != b.size() - kHeaderSize - 4) {
    return bad("body length does not match the file size [MAN-1]");
  }
  if (crc32c::Unmask(DecodeFixed32(b.data() + b.size() - 4)) !=
      crc32c::Value(b.data(), b.size() - 4)) {
    return bad("checksum mismatch [MAN-1]");
  }
  ByteReader r(b.substr(kHeaderSize, b.size() - kHeaderSize - 4));
  Version v;
  uint64_t window = 0;
  uint32_t count = 0;
  if (!r.ReadVarint64(&v.edit) || !r.ReadVarint64(&window) || !r.ReadVarint64(&v.next_table) ||
      !r.ReadVarint64(&v.wal_position) || !r.ReadVarint32(&count)) {
    return bad("truncated header fields [MAN-2]");
  }
  v.window_ns = static_cast<int64_t>(window);
  for (uint32_t i = 0; i < count; ++i) {
    TableMeta t;
    if (!ReadTable(&r, &t)) return bad(fmt::format("table entry {} truncated [MAN-2]", i));
    v.tables.push_back(std::move(t));
  }
  if (!r.ReadVarint32(&count)) return bad("dropped count truncated [MAN-2]");
  for (uint32_t i = 0; i < count; ++i) {
    DroppedPartition d;
    if (!ReadDropped(&r, &d)) return bad(fmt::format("dropped entry {} truncated [MAN-2]", i));
    v.dropped.push_back(d);
  }
  if (!r.empty()) return bad("bytes after the last entry [MAN-2]");
  if (std::string why = CheckRules(v); !why.empty()) return bad(why);
  v.Sort();
  return v;
}

Status Install(Env* env, const std::string& dir, const Version& version) {
  const std::string tmp = JoinPath(dir, std::string(kFileName) + ".tmp");
  HANSHIRO_RETURN_IF_ERROR(WriteStringToFile(env, Encode(version), tmp, /*sync=*/true));
  HANSHIRO_RETURN_IF_ERROR(env->RenameFile(tmp, JoinPath(dir, kFileName)));
  return env->SyncDir(dir);
}

Result<std::optional<Version>> Load(Env* env, const std::string& dir) {
  const std::string path = JoinPath(dir, kFileName);
  if (!env->FileExists(path)) return std::optional<Version>();
  HANSHIRO_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(env, path));
  HANSHIRO_ASSIGN_OR_RETURN(Version v, Decode(bytes, path));
  return std::optional<Version>(std::move(v));
}

}  // namespace manifest
}  // namespace hanshiro::lsm
