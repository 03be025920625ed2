// Constants shared by the vector store's writer and reader
// (docs/format/vectors.md).
#ifndef HANSHIRO_VECTOR_VECTOR_FORMAT_H_
#define HANSHIRO_VECTOR_VECTOR_FORMAT_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace hanshiro::vector {

constexpr std::string_view kChunkMagic = "HSVECCHK";
// Version 2 adds removed_seq to tombstones; version 1 chunks are read too.
constexpr uint32_t kChunkVersion = 2;
constexpr uint32_t kMinChunkVersion = 1;
constexpr size_t kChunkHeaderSize = 4096;
constexpr size_t kHeaderCrcOffset = 56;
constexpr size_t kMetaSize = 64;
constexpr size_t kMetaCrcOffset = 60;
constexpr uint32_t kMaxDim = 4096;
constexpr uint32_t kMaxCapacity = 1u << 20;
constexpr uint32_t kMaxChunks = 1u << 16;
constexpr size_t kTargetChunkBytes = 64u << 20;

// Metadata entry offsets.
constexpr size_t kMetaId = 0;
constexpr size_t kMetaSeq = 16;
constexpr size_t kMetaTime = 24;
constexpr size_t kMetaHost = 32;
constexpr size_t kMetaEventType = 40;
constexpr size_t kMetaKind = 42;
constexpr size_t kMetaState = 43;
constexpr size_t kMetaRemovedSeq = 44;  // version 2

constexpr uint8_t kStateEmpty = 0;
constexpr uint8_t kStateLive = 1;
constexpr uint8_t kStateRemoved = 2;

// Floats per row: dim rounded up to 16 (64 bytes).
inline uint32_t StrideFor(uint32_t dim) { return (dim + 15) / 16 * 16; }

}  // namespace hanshiro::vector

#endif  // HANSHIRO_VECTOR_VECTOR_FORMAT_H_
