#include "sstable/compression.h"

#include <lz4.h>
#include <snappy.h>
#include <zstd.h>

#include "base/coding.h"

namespace hanshiro::sstable {

namespace {

constexpr int kZstdLevel = 3;

// Appends the compressed bytes of raw; false when the codec failed.
bool Compress(Compression type, std::string_view raw, std::string* out) {
  const size_t start = out->size();
  switch (type) {
    case Compression::kSnappy: {
      out->resize(start + snappy::MaxCompressedLength(raw.size()));
      size_t n = 0;
      snappy::RawCompress(raw.data(), raw.size(), out->data() + start, &n);
      out->resize(start + n);
      return true;
    }
    case Compression::kLz4: {
      const int bound = LZ4_compressBound(static_cast<int>(raw.size()));
      out->resize(start + static_cast<size_t>(bound));
      const int n = LZ4_compress_default(raw.data(), out->data() + start,
                                         static_cast<int>(raw.size()), bound);
      out->resize(start + static_cast<size_t>(n > 0 ? n : 0));
      return n > 0;
    }
    case Compression::kZstd: {
      out->resize(start + ZSTD_compressBound(raw.size()));
      const size_t n =
          ZSTD_compress(out->data() + start, out->size() - start, raw.data(), raw.size(), kZstdLevel);
      if (ZSTD_isError(n)) {
        out->resize(start);
        return false;
      }
      out->resize(start + n);
      return true;
    }
    case Compression::kNone:
      break;
  }
  return false;
}

}  // namespace

Compression CompressBlock(Compression type, std::string_view raw, std::string* out) {
  if (type != Compression::kNone && raw.size() <= kMaxRawBlockBytes) {
    const size_t start = out->size();
    PutVarint32(out, static_cast<uint32_t>(raw.size()));
    if (Compress(type, raw, out) && out->size() - start < raw.size() - raw.size() / 8) {
      return type;
    }
    out->resize(start);
  }
  out->append(raw);
  return Compression::kNone;
}

Status UncompressBlock(Compression type, std::string_view stored, std::string* raw) {
  ByteReader reader(stored);
  uint32_t raw_size = 0;
  if (!reader.ReadVarint32(&raw_size)) return Status::Corruption("missing raw size [SST-7]");
  if (raw_size > kMaxRawBlockBytes) return Status::Corruption("raw size over 64 MiB [SST-7]");
  std::string_view body;
  (void)reader.ReadBytes(reader.remaining(), &body);
  raw->resize(raw_size);
  bool ok = false;
  switch (type) {
    case Compression::kSnappy: {
      size_t n = 0;
      ok = snappy::GetUncompressedLength(body.data(), body.size(), &n) && n == raw_size &&
           snappy::RawUncompress(body.data(), body.size(), raw->data());
      break;
    }
    case Compression::kLz4: {
      const int n = LZ4_decompress_safe(body.data(), raw->data(), static_cast<int>(body.size()),
                                        static_cast<int>(raw_size));
      ok = n >= 0 && static_cast<uint32_t>(n) == raw_size;
      break;
    }
    case Compression::kZstd: {
      const size_t n = ZSTD_decompress(raw->data(), raw_size, body.data(), body.size());
      ok = !ZSTD_isError(n) && n == raw_size;
      break;
    }
    case Compression::kNone:
      HANSHIRO_CHECK(false);
  }
  if (!ok) {
    return Status::Corruption(
        std::string(CompressionName(type)) + " data does not decompress to its raw size [SST-7]");
  }
  return Status::OK();
}

std::string_view CompressionName(Compression type) {
  switch (type) {
    case Compression::kNone: return "none";
    case Compression::kSnappy: return "snappy";
    case Compression::kLz4: return "lz4";
    case Compression::kZstd: return "zstd";
  }
  return "unknown";
}

Result<Compression> ParseCompression(std::string_view name) {
  for (uint8_t t = 0; t <= kMaxCompression; ++t) {
    if (CompressionName(static_cast<Compression>(t)) == name) return static_cast<Compression>(t);
  }
  return Status::InvalidArgument("unknown compression '" + std::string(name) +
                                 "' (expected none, snappy, lz4 or zstd)");
}

}  // namespace hanshiro::sstable
