#include "vector/chunk.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "base/coding.h"
#include "base/crc32c.h"

namespace hanshiro::vector {
namespace {

Status Errno(const char* op, const std::string& path) {
  return Status::IOError(fmt::format("{} {}: {}", op, path, std::strerror(errno)));
}

std::string EncodeHeader(const Geometry& g, uint32_t number) {
  std::string h(kChunkMagic);
  PutFixed32(&h, kChunkVersion);
  PutFixed32(&h, g.dim);
  PutFixed32(&h, static_cast<uint32_t>(g.metric));
  PutFixed32(&h, g.stride);
  PutFixed32(&h, g.capacity);
  PutFixed32(&h, number);
  PutFixed64(&h, uint64_t{number - 1} * g.capacity);
  h.append(16, '\0');
  PutFixed32(&h, crc32c::Mask(crc32c::Value(h)));
  return h;
}

bool ValidMetric(uint32_t m) { return m >= 1 && m <= 3; }

constexpr size_t kHugePage = size_t{2} << 20;

// Maps `size` bytes of fd shared, at an address aligned to kHugePage.
void* MapAligned(int fd, size_t size) {
  // Reserve enough address space to find an aligned start, then map the
  // file over it and give back the rest.
  const size_t span = size + kHugePage;
  void* reserved = ::mmap(nullptr, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (reserved == MAP_FAILED) return MAP_FAILED;
  const auto start = reinterpret_cast<uintptr_t>(reserved);
  const uintptr_t aligned = (start + kHugePage - 1) & ~(uintptr_t{kHugePage} - 1);
  void* base = ::mmap(reinterpret_cast<void*>(aligned), size, PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_FIXED, fd, 0);
  if (base == MAP_FAILED) {
    const int saved = errno;
    ::munmap(reserved, span);
    errno = saved;
    return MAP_FAILED;
  }
  if (aligned > start) ::munmap(reserved, aligned - start);
  const uintptr_t end = aligned + size, reserved_end = start + span;
  const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t end_page = (end + page - 1) & ~(page - 1);
  if (reserved_end > end_page) ::munmap(reinterpret_cast<void*>(end_page), reserved_end - end_page);
  return base;
}

// Writes `header` at offset 0 and zeros after it up to `size`, in pieces of
// 2 MiB on 2 MiB boundaries: the page cache then holds the file in 2 MiB
// folios, which a mapping aligned to 2 MiB maps one page-table entry each
// (a third of the time to fault in, and fewer TLB misses for the rows).
Status WriteZeroed(int fd, const std::string& header, uint64_t size) {
  constexpr size_t kPiece = kHugePage;
  static const char kZeros[kPiece] = {};
  // The header and the zeros after it go in one write, so the first piece
  // is one folio too.
  uint64_t at = 0;
  while (at < size) {
    const uint64_t end = std::min<uint64_t>((at / kPiece + 1) * kPiece, size);
    iovec parts[2];
    int count = 0;
    if (at < header.size()) {
      parts[count++] = {const_cast<char*>(header.data()) + at, header.size() - at};
    }
    const uint64_t zeros_from = std::max<uint64_t>(at, header.size());
    if (zeros_from < end) {
      parts[count++] = {const_cast<char*>(kZeros), static_cast<size_t>(end - zeros_from)};
    }
    const ssize_t w = ::pwritev(fd, parts, count, static_cast<off_t>(at));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return Status::IOError(w < 0 ? std::strerror(errno) : "no progress");
    at += static_cast<uint64_t>(w);
  }
  return Status::OK();
}

#ifdef MADV_POPULATE_WRITE
constexpr int kMadvPopulateWrite = MADV_POPULATE_WRITE;
#else
constexpr int kMadvPopulateWrite = 23;  // Linux 5.14+
#endif

}  // namespace

Geometry Geometry::For(uint32_t dim, Metric metric) {
  Geometry g;
  g.dim = dim;
  g.metric = metric;
  g.stride = StrideFor(dim);
  const size_t row_bytes = size_t{g.stride} * 4 + kMetaSize;
  g.capacity = static_cast<uint32_t>(std::clamp<size_t>(kTargetChunkBytes / row_bytes, 256, 65536));
  return g;
}

uint64_t Geometry::FileSize() const {
  return kChunkHeaderSize + uint64_t{capacity} * (uint64_t{stride} * 4 + kMetaSize);
}

Chunk::Chunk(std::string path, uint32_t number, const Geometry& g, int fd, char* base)
    : path_(std::move(path)),
      number_(number),
      geometry_(g),
      fd_(fd),
      base_(base),
      rows_(reinterpret_cast<float*>(base + kChunkHeaderSize)),
      meta_offset_(kChunkHeaderSize + size_t{g.capacity} * g.stride * 4),
      // Address space only: pages are touched by the first search that
      // builds the copy (BuildCompact), never by appends.
      compact_(size_t{g.capacity} * g.stride),
      row_info_(3 * size_t{g.capacity}) {}

void Chunk::BuildCompact(uint32_t from, uint32_t to) {
  const uint32_t dim = geometry_.dim;
  for (uint32_t r = from; r < to; ++r) {
    const float* v = row(r);
    const Int8Row info = ToInt8Row(v, dim, compact_.data() + size_t{r} * geometry_.stride);
    float* p = row_info_.data();
    p[r] = info.scale;
    p[geometry_.capacity + r] = info.norm;
    p[2 * size_t{geometry_.capacity} + r] = info.error;
  }
}

Chunk::~Chunk() {
  ::munmap(base_, geometry_.FileSize());
  ::close(fd_);
}

Result<std::unique_ptr<Chunk>> Chunk::Create(const std::string& path, const Geometry& g,
                                             uint32_t number) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("create", path);
  const std::string header = EncodeHeader(g, number);
  // The file's blocks are allocated now, so a full disk is an error here and
  // not a SIGBUS on a later store to the mapping. On a file system without
  // fallocate the file is sized first and its blocks come with the zeros
  // written below.
  const off_t size = static_cast<off_t>(g.FileSize());
  if (::fallocate(fd, 0, 0, size) != 0 &&
      (errno != EOPNOTSUPP || ::ftruncate(fd, size) != 0)) {
    Status s = Errno("allocate", path);
    ::close(fd);
    ::unlink(path.c_str());
    return s;
  }
  // Every byte is written once (pwritev) before the file is mapped. On
  // Linux this fills the page cache in large folios, and the populate below
  // then only maps pages that exist: about half the time of letting the
  // populate fault each page of an unwritten extent in (7 against 16 ms for
  // a 37.7 MB chunk here).
  if (Status s = WriteZeroed(fd, header, g.FileSize()); !s.ok()) {
    ::close(fd);
    ::unlink(path.c_str());
    return Status::IOError(fmt::format("write {}: {}", path, s.message()));
  }
  void* base = MapAligned(fd, g.FileSize());
  if (base == MAP_FAILED) {
    Status s = Errno("mmap", path);
    ::close(fd);
    ::unlink(path.c_str());  // so a retry can create it again
    return s;
  }
  // Fault every page in for writing now, in one call, so appends do not pay
  // a page fault (and its block allocation) one page at a time. Kernels
  // before 5.14 lack MADV_POPULATE_WRITE; the pages then fault on first use.
  (void)::madvise(base, g.FileSize(), kMadvPopulateWrite);
  return std::unique_ptr<Chunk>(new Chunk(path, number, g, fd, static_cast<char*>(base)));
}

Result<std::unique_ptr<Chunk>> Chunk::Open(const std::string& path, const Geometry& expected,
                                           uint32_t number) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return Errno("open", path);
  auto fail = [&](Status s) {
    ::close(fd);
    return s;
  };
  char h[kHeaderCrcOffset + 4];
  if (::pread(fd, h, sizeof(h), 0) != static_cast<ssize_t>(sizeof(h))) {
    return fail(Status::Corruption(path + ": shorter than a chunk header [VEC-3]"));
  }
  if (std::string_view(h, 8) != kChunkMagic || DecodeFixed32(h + 8) < kMinChunkVersion ||
      DecodeFixed32(h + 8) > kChunkVersion) {
    return fail(Status::Corruption(path + ": not a version 1 or 2 vector chunk [VEC-1]"));
  }
  if (crc32c::Unmask(DecodeFixed32(h + kHeaderCrcOffset)) != crc32c::Value(h, kHeaderCrcOffset)) {
    return fail(Status::Corruption(path + ": header checksum mismatch [VEC-2]"));
  }
  Geometry g;
  g.dim = DecodeFixed32(h + 12);
  const uint32_t metric = DecodeFixed32(h + 16);
  g.stride = DecodeFixed32(h + 20);
  g.capacity = DecodeFixed32(h + 24);
  if (g.dim == 0 || g.dim > kMaxDim || !ValidMetric(metric) || g.stride != StrideFor(g.dim) ||
      g.capacity == 0 || g.capacity > kMaxCapacity) {
    return fail(Status::Corruption(path + ": dimension, metric, stride or capacity out of range [VEC-3]"));
  }
  g.metric = static_cast<Metric>(metric);
  if (expected.dim != 0 && !(g == expected)) {
    return fail(Status::Corruption(path + ": geometry differs from the collection's [VEC-3]"));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) return fail(Errno("stat", path));
  if (static_cast<uint64_t>(st.st_size) != g.FileSize()) {
    return fail(Status::Corruption(fmt::format("{}: {} bytes, the header implies {} [VEC-3]", path,
                                               st.st_size, g.FileSize())));
  }
  if (DecodeFixed32(h + 28) != number ||
      DecodeFixed64(h + 32) != uint64_t{number - 1} * g.capacity) {
    return fail(Status::Corruption(path + ": chunk number or first row mismatch [VEC-4]"));
  }
  void* base = MapAligned(fd, g.FileSize());
  if (base == MAP_FAILED) return fail(Errno("mmap", path));
  return std::unique_ptr<Chunk>(new Chunk(path, number, g, fd, static_cast<char*>(base)));
}

RowMeta Chunk::meta(uint32_t r) const {
  const char* p = reinterpret_cast<const char*>(meta_bytes(r));
  RowMeta m;
  m.id = EventId::DecodeFrom(p + kMetaId);
  m.seq = DecodeFixed64(p + kMetaSeq);
  m.time_ns = static_cast<int64_t>(DecodeFixed64(p + kMetaTime));
  m.host_hash = DecodeFixed64(p + kMetaHost);
  m.event_type = static_cast<uint16_t>(static_cast<uint8_t>(p[kMetaEventType]) |
                                       (static_cast<uint8_t>(p[kMetaEventType + 1]) << 8));
  m.kind = static_cast<uint8_t>(p[kMetaKind]);
  return m;
}

uint64_t Chunk::removed_seq(uint32_t r) const {
  return DecodeFixed64(reinterpret_cast<const char*>(meta_bytes(r)) + kMetaRemovedSeq);
}

uint32_t Chunk::RowCrc(uint32_t r) const {
  const char* p = reinterpret_cast<const char*>(meta_bytes(r));
  const uint32_t crc = crc32c::Value(p, kMetaCrcOffset);
  return crc32c::Extend(crc, reinterpret_cast<const char*>(row(r)), size_t{geometry_.dim} * 4);
}

bool Chunk::RowValid(uint32_t r) const {
  const uint8_t s = state(r);
  if (s != kStateLive && s != kStateRemoved) return false;
  const char* p = reinterpret_cast<const char*>(meta_bytes(r));
  return crc32c::Unmask(DecodeFixed32(p + kMetaCrcOffset)) == RowCrc(r);
}

size_t Chunk::WriteRow(uint32_t r, const RowMeta& m, const float* vec, bool normalize) {
  const uint32_t dim = geometry_.dim;
  float* dst = rows_ + size_t{r} * geometry_.stride;
  const float norm = StoreRow(vec, dst, dim, normalize);
  // A non-finite element makes the norm non-finite, so the elements are only
  // looked at one by one when it is. The vector is then read while it is
  // still in the cache, not in a pass of its own over the whole batch.
  if (!std::isfinite(norm)) {
    if (const size_t bad = FirstNonFinite(vec, dim); bad < dim) return bad;
    // Finite elements whose squares overflow a float.
    if (normalize) NormalizeInDouble(vec, dst, dim);
  }
  char* p = reinterpret_cast<char*>(meta_bytes(r));
  std::memset(p, 0, kMetaSize);
  m.id.EncodeTo(p + kMetaId);
  EncodeFixed64(p + kMetaSeq, m.seq);
  EncodeFixed64(p + kMetaTime, static_cast<uint64_t>(m.time_ns));
  EncodeFixed64(p + kMetaHost, m.host_hash);
  p[kMetaEventType] = static_cast<char>(m.event_type & 0xff);
  p[kMetaEventType + 1] = static_cast<char>(m.event_type >> 8);
  p[kMetaKind] = static_cast<char>(m.kind);
  p[kMetaState] = static_cast<char>(kStateLive);
  EncodeFixed32(p + kMetaCrcOffset, crc32c::Mask(RowCrc(r)));
  return dim;
}

void Chunk::SetState(uint32_t r, uint8_t s, uint64_t removed_seq) {
  uint8_t* p = meta_bytes(r);
  EncodeFixed64(reinterpret_cast<char*>(p) + kMetaRemovedSeq, removed_seq);
  std::atomic_ref<uint8_t>(p[kMetaState]).store(s, std::memory_order_release);
  EncodeFixed32(reinterpret_cast<char*>(p) + kMetaCrcOffset, crc32c::Mask(RowCrc(r)));
}

void Chunk::ClearRows(uint32_t from, uint32_t to) {
  // Only a row whose state is not empty could pass for a valid one later;
  // an empty row's other bytes are all rewritten before it is live again
  // (WriteRow). So a chunk that was created ahead and never used is not
  // written to at all.
  for (uint32_t r = from; r < std::min(to, geometry_.capacity); ++r) {
    if (state(r) == kStateEmpty) continue;
    std::memset(rows_ + size_t{r} * geometry_.stride, 0, size_t{geometry_.stride} * 4);
    std::memset(meta_bytes(r), 0, kMetaSize);
  }
}

Status Chunk::Sync() {
  if (::msync(base_, geometry_.FileSize(), MS_SYNC) != 0) return Errno("msync", path_);
  return Status::OK();
}

}  // namespace hanshiro::vector
