// Record encoding: the versioned binary form of a Value (docs/format/record.md).
//
// These bytes are what the WAL logs, what the integrity tree hashes and what
// tables store, so the encoding is canonical: a value has exactly one
// encoding, and bytes decode if and only if they are that encoding of some
// valid value. Decoding treats its input as hostile: it never reads out of
// bounds, never allocates more than a small multiple of the input size, and
// reports the first violated rule as Corruption naming the field and offset.
// Stateless and thread-safe.
#ifndef HANSHIRO_BASE_RECORD_H_
#define HANSHIRO_BASE_RECORD_H_

#include <string>
#include <string_view>

#include "hanshiro/model.h"
#include "hanshiro/status.h"

namespace hanshiro::record {

// Checks every rule of the format; InvalidArgument naming the field otherwise.
Status Validate(const Value& value);

// Validates `value`, then appends its encoding to *out. On error *out is
// unchanged.
Status Encode(const Value& value, std::string* out);

Result<Value> Decode(std::string_view bytes);

}  // namespace hanshiro::record

#endif  // HANSHIRO_BASE_RECORD_H_
