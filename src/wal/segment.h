// WAL segment files (docs/format/wal.md): the header, record encoding, and a
// reader that walks the records of one segment. The reader checks what one
// record alone can show (header, checksum, length, kind); order, chain and
// tree checks across records are the Scanner's. Not thread-safe.
#ifndef HANSHIRO_WAL_SEGMENT_H_
#define HANSHIRO_WAL_SEGMENT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "hanshiro/env.h"
#include "hanshiro/hash.h"
#include "wal/wal_format.h"

namespace hanshiro::wal {

struct SegmentHeader {
  uint32_t hash_algorithm = kHashBlake3;
  uint64_t number = 0;     // the file's number (NNNNNN.wal)
  uint64_t first_seq = 0;  // = tree size when the segment starts
  Hash256 root;            // tree root at first_seq (zero without integrity)
};

// "dir/000042.wal".
std::string SegmentFileName(const std::string& dir, uint64_t number);
// The number of a segment file name ("000042.wal" -> 42), or 0 when the name
// is not one.
uint64_t ParseSegmentFileName(std::string_view name);

std::string EncodeSegmentHeader(const SegmentHeader& header);
// Appends one record to *out.
void AppendRecord(std::string* out, uint64_t seq, uint8_t kind, std::string_view payload);

// One record, borrowed from the reader's buffer until the next call.
struct RecordView {
  uint64_t offset = 0;  // of the record in the file
  uint64_t seq = 0;
  uint8_t kind = 0;
  std::string_view payload;
  std::string_view leaf_input;  // the record after its crc [WAL-7]
  uint64_t end() const { return offset + kRecordHeaderSize + payload.size(); }
};

class SegmentReader {
 public:
  enum class Outcome {
    kRecord,     // *record is set
    kEnd,        // clean end of the readable bytes
    kTruncated,  // the bytes end inside a record
    kBad,        // a record fails its own checks; *why says which
  };

  // Opens `path` and checks its header; reads at most `limit` bytes of it
  // (the whole file when limit is UINT64_MAX). A file shorter than a header,
  // or exactly a header of zero bytes, gives NotFound: a creation a crash cut
  // short, which the caller may treat as torn.
  static Result<std::unique_ptr<SegmentReader>> Open(Env* env, const std::string& path,
                                                     uint64_t limit);

  const SegmentHeader& header() const { return header_; }
  uint64_t size() const { return size_; }
  // Offset of the next record.
  uint64_t offset() const { return pos_; }

  Outcome Next(RecordView* record, std::string* why);
  // True when a well-formed commit record (right kind, length and checksum)
  // starts at any byte after `damaged` (where a record failed): tells a torn
  // tail (nothing committed after the damage) from corruption before
  // committed data [WAL-15].
  Result<bool> CommitRecordAfter(uint64_t damaged);

 private:
  SegmentReader(std::unique_ptr<RandomAccessFile> file, std::string path, uint64_t size)
      : file_(std::move(file)), path_(std::move(path)), size_(size) {}
  // Makes bytes [pos, pos + n) available in buf_; false past the limit.
  Result<bool> Ensure(uint64_t pos, size_t n);
  const char* At(uint64_t pos) const { return buf_.data() + (pos - buf_start_); }

  std::unique_ptr<RandomAccessFile> file_;
  std::string path_;
  uint64_t size_;
  SegmentHeader header_;
  uint64_t pos_ = kSegmentHeaderSize;
  std::string buf_;
  uint64_t buf_start_ = 0;
};

}  // namespace hanshiro::wal

#endif  // HANSHIRO_WAL_SEGMENT_H_
