// Per-block compression: None, Snappy, LZ4, Zstd (docs/format/sstable.md,
// `block`). Stateless and thread-safe.
#ifndef HANSHIRO_SSTABLE_COMPRESSION_H_
#define HANSHIRO_SSTABLE_COMPRESSION_H_

#include <string>
#include <string_view>

#include "hanshiro/status.h"
#include "sstable/format.h"

namespace hanshiro::sstable {

// Appends the stored form of `raw` to *out and returns the type it used:
// `type`, or kNone when compressing would not save at least 1/8.
Compression CompressBlock(Compression type, std::string_view raw, std::string* out);

// Decodes a stored block of a compressed type into *raw. Corruption (without
// a location: the caller adds it) when raw_size is missing or over the
// limit, or the bytes do not decompress to exactly raw_size bytes [SST-7].
// REQUIRES: type != kNone
Status UncompressBlock(Compression type, std::string_view stored, std::string* raw);

std::string_view CompressionName(Compression type);
// "none", "snappy", "lz4", "zstd".
Result<Compression> ParseCompression(std::string_view name);

}  // namespace hanshiro::sstable

#endif  // HANSHIRO_SSTABLE_COMPRESSION_H_
