// One chunk file of a vector collection, memory-mapped (docs/format/vectors.md):
// a header, `capacity` 64-byte-aligned rows of floats, and a 64-byte metadata
// entry per row whose checksum covers the entry and the row's vector.
//
// Thread-safety: one writer fills rows in order (WriteRow, SetState) while any
// number of readers read rows that the owner has published to them; the state
// byte is read and written atomically so a removal is seen whole.
#ifndef HANSHIRO_VECTOR_CHUNK_H_
#define HANSHIRO_VECTOR_CHUNK_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "hanshiro/event_id.h"
#include "hanshiro/status.h"
#include "vector/distance.h"
#include "base/huge_array.h"
#include "vector/vector_format.h"

namespace hanshiro::vector {

struct Geometry {
  uint32_t dim = 0;
  Metric metric = Metric::kCosine;
  uint32_t stride = 0;    // floats per row
  uint32_t capacity = 0;  // rows per chunk

  // The geometry the store uses for a new collection of this dimension.
  static Geometry For(uint32_t dim, Metric metric);
  uint64_t FileSize() const;
  bool operator==(const Geometry&) const = default;
};

// What a metadata entry holds, decoded.
struct RowMeta {
  EventId id;
  uint64_t seq = 0;
  int64_t time_ns = 0;
  uint64_t host_hash = 0;
  uint16_t event_type = 0;
  uint8_t kind = 1;
};

class Chunk {
 public:
  // Creates the file at full size, writes the header, maps it and faults its
  // pages in. Fails when the file exists.
  static Result<std::unique_ptr<Chunk>> Create(const std::string& path, const Geometry& geometry,
                                               uint32_t number);
  // Opens and maps an existing chunk after checking [VEC-1]..[VEC-4]. When
  // `expected` has a dim, the header must match it.
  static Result<std::unique_ptr<Chunk>> Open(const std::string& path, const Geometry& expected,
                                             uint32_t number);
  ~Chunk();
  Chunk(const Chunk&) = delete;
  Chunk& operator=(const Chunk&) = delete;

  const Geometry& geometry() const { return geometry_; }
  uint32_t number() const { return number_; }
  const std::string& path() const { return path_; }

  const float* row(uint32_t r) const { return rows_ + size_t{r} * geometry_.stride; }
  // REQUIRES: r < capacity
  RowMeta meta(uint32_t r) const;
  uint8_t state(uint32_t r) const {
    return std::atomic_ref<uint8_t>(meta_bytes(r)[kMetaState]).load(std::memory_order_acquire);
  }
  // A tombstone's removing record: 0 for live rows and version-1 tombstones.
  // Not for readers concurrent with SetState (for open).
  uint64_t removed_seq(uint32_t r) const;
  // Present: state live or removed, and the checksum matches [VEC-5].
  bool RowValid(uint32_t r) const;

  // Writes row r: the vector (dim floats, scaled to unit length in place when
  // `normalize`), then its metadata with state live and the checksum, and
  // returns dim. When an element of `vec` is not finite, returns its index
  // and the row stays empty (its vector bytes are not defined).
  size_t WriteRow(uint32_t r, const RowMeta& meta, const float* vec, bool normalize);
  // Marks row r removed by the log record `removed_seq`, or live again
  // (removed_seq 0), updating the checksum.
  void SetState(uint32_t r, uint8_t state, uint64_t removed_seq = 0);
  // Drops rows [from, to): every row there that is not empty is zeroed.
  void ClearRows(uint32_t from, uint32_t to);
  // Drops rows [from, capacity) (what recovery does not keep).
  void ClearFrom(uint32_t from) { ClearRows(from, geometry_.capacity); }

  // The in-memory compact copy used to scan large stores: each row in int8
  // (stride elements, zero past dim) with its scale, norm and error
  // (ToInt8Row). None of it is written by WriteRow; BuildCompact fills it
  // for rows [from, to), which must hold written rows. REQUIRES for the
  // accessors: the rows read are built.
  const int8_t* compact_row(uint32_t r) const {
    return compact_.data() + size_t{r} * geometry_.stride;
  }
  const float* scales(uint32_t r) const { return row_info_.data() + r; }
  const float* norms(uint32_t r) const { return row_info_.data() + geometry_.capacity + r; }
  const float* errors(uint32_t r) const { return row_info_.data() + 2 * size_t{geometry_.capacity} + r; }
  void BuildCompact(uint32_t from, uint32_t to);

  // msync of the whole mapping.
  Status Sync();

 private:
  Chunk(std::string path, uint32_t number, const Geometry& g, int fd, char* base);
  uint8_t* meta_bytes(uint32_t r) const {
    return reinterpret_cast<uint8_t*>(base_ + meta_offset_ + size_t{r} * kMetaSize);
  }
  uint32_t RowCrc(uint32_t r) const;

  const std::string path_;
  const uint32_t number_;
  const Geometry geometry_;
  const int fd_;
  char* const base_;
  float* const rows_;
  const size_t meta_offset_;
  HugeArray<int8_t> compact_;
  HugeArray<float> row_info_;  // scales, then norms, then errors, capacity each
};

}  // namespace hanshiro::vector

#endif  // HANSHIRO_VECTOR_CHUNK_H_
