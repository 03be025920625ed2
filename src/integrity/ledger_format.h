// Constants shared by the ledger writer and reader (docs/format/ledger.md).
#ifndef HANSHIRO_INTEGRITY_LEDGER_FORMAT_H_
#define HANSHIRO_INTEGRITY_LEDGER_FORMAT_H_

#include <cstdint>
#include <string_view>

namespace hanshiro::integrity {

constexpr std::string_view kLedgerMagic = "HSLEDGER";
constexpr uint32_t kLedgerVersion = 1;
constexpr uint32_t kHashBlake3 = 1;  // hash algorithm id, shared with the WAL
constexpr size_t kLedgerHeaderSize = 32;
constexpr size_t kLedgerEntrySize = 32;

}  // namespace hanshiro::integrity

#endif  // HANSHIRO_INTEGRITY_LEDGER_FORMAT_H_
