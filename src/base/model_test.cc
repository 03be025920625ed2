#include "hanshiro/model.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "base/hex.h"
#include "hanshiro/storage_key.h"

namespace hanshiro {
namespace {

TEST(ModelTest, EventTypeNamesRoundTripAndUnknownNamesAreCustom) {
  for (uint8_t code = 1; code <= kMaxNamedEventTypeCode; ++code) {
    const auto named = EventType::Named(static_cast<EventTypeCode>(code));
    EXPECT_EQ(EventType::FromName(named.name()), named) << named.name();
  }
  EXPECT_EQ(EventType::FromName("dnsquery"), EventType::Named(EventTypeCode::kDnsQuery));
  const EventType custom = EventType::FromName("KerberoastingAttempt");
  EXPECT_EQ(custom.code, EventTypeCode::kCustom);
  EXPECT_EQ(custom.name(), "KerberoastingAttempt");
}

TEST(ModelTest, IngestionFormatParseIsCaseInsensitiveAndNamesChoices) {
  EXPECT_EQ(*ParseIngestionFormat("suricata"), IngestionFormat::kSuricata);
  EXPECT_EQ(*ParseIngestionFormat("OCSF"), IngestionFormat::kOcsf);
  auto bad = ParseIngestionFormat("xml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'xml'"), std::string::npos);
  EXPECT_NE(bad.status().message().find("Zeek"), std::string::npos);
}

TEST(ModelTest, FileTypesAndCapabilitiesHaveNames) {
  EXPECT_EQ(*ParseFileType("elf"), FileType::kElf);
  EXPECT_EQ(FileTypeName(FileType::kMachO), "MachO");
  Capabilities caps;
  caps.Set(Capability::kNetwork).Set(Capability::kPersistence);
  EXPECT_TRUE(caps.Has(Capability::kNetwork));
  EXPECT_FALSE(caps.Has(Capability::kCrypto));
  EXPECT_EQ(caps.Names(), (std::vector<std::string_view>{"Network", "Persistence"}));
  EXPECT_EQ(*ParseCapability("antivm"), Capability::kAntiVm);
  EXPECT_FALSE(ParseCapability("teleport").ok());
}

TEST(ModelTest, IpAddressParsesAndPrintsBothFamilies) {
  auto v4 = IpAddress::Parse("10.0.0.7");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->family(), IpAddress::Family::kV4);
  EXPECT_EQ(v4->ToString(), "10.0.0.7");
  auto v6 = IpAddress::Parse("2001:db8::1");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->family(), IpAddress::Family::kV6);
  EXPECT_EQ(v6->bytes().size(), 16u);
  EXPECT_EQ(v6->ToString(), "2001:db8::1");
  EXPECT_TRUE(IpAddress::Parse("10.0.0.256").status().IsInvalidArgument());
  EXPECT_FALSE(IpAddress::Parse("host.example").ok());
  EXPECT_FALSE(IpAddress::Parse(std::string_view("10.0.0.7\0junk", 13)).ok());
}

TEST(StorageKeyTest, LayoutIsPrefixTimeBigEndianId) {
  const EventId id(0x0102030405060708ull, 0x090a0b0c0d0e0f10ull);
  const StorageKey key(ValueKind::kLog, 0x1122334455667788ll, id);
  const std::string expected =
      std::string("\x01\x11\x22\x33\x44\x55\x66\x77\x88", 9) +
      std::string("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10", 16);
  EXPECT_EQ(key.view(), expected);
  EXPECT_EQ(key.kind(), ValueKind::kLog);
  EXPECT_EQ(key.time_ns(), 0x1122334455667788ll);
  EXPECT_EQ(key.id(), id);
}

// The worked example of docs/format/storage_key.md.
TEST(StorageKeyTest, MatchesDocumentedExample) {
  const StorageKey key(ValueKind::kLog, 1'700'000'000'123'456'789,
                       *EventId::Parse("0190a3c2-7b1e-7c4d-8f00-0123456789ab"));
  EXPECT_EQ(HexEncode(key.view()),
            "01"
            "17979cfe3d85cd15"
            "0190a3c27b1e7c4d8f000123456789ab");
}

TEST(StorageKeyTest, OrdersByKindThenTimeThenIdLikeBytes) {
  std::vector<StorageKey> keys = {
      StorageKey(ValueKind::kCode, 0, EventId(0, 0)),
      StorageKey(ValueKind::kLog, 256, EventId(0, 0)),
      StorageKey(ValueKind::kLog, 255, EventId(9, 9)),
      StorageKey(ValueKind::kLog, 255, EventId(9, 1)),
      StorageKey(ValueKind::kIndex, 1, EventId(1, 1)),
      StorageKey(ValueKind::kLog, 0, EventId(UINT64_MAX, UINT64_MAX)),
  };
  std::vector<StorageKey> by_value = keys;
  std::sort(by_value.begin(), by_value.end());
  std::vector<StorageKey> by_bytes = keys;
  std::sort(by_bytes.begin(), by_bytes.end(),
            [](const StorageKey& a, const StorageKey& b) { return a.view() < b.view(); });
  EXPECT_EQ(by_value, by_bytes);
  EXPECT_EQ(by_value.front().time_ns(), 0);
  EXPECT_EQ(by_value.front().kind(), ValueKind::kLog);
  EXPECT_EQ(by_value[1].id(), EventId(9, 1));
  EXPECT_EQ(by_value.back().kind(), ValueKind::kIndex);
}

TEST(StorageKeyTest, DecodeRoundTripsAndRejectsBadKeys) {
  const StorageKey key(ValueKind::kIndex, 12345, EventId(1, 2));
  auto decoded = StorageKey::Decode(key.view());
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, key);

  EXPECT_TRUE(StorageKey::Decode(key.view().substr(0, 24)).status().IsCorruption());
  std::string bad_prefix(key.view());
  bad_prefix[0] = '\x04';
  EXPECT_NE(StorageKey::Decode(bad_prefix).status().message().find("prefix"), std::string::npos);
  std::string negative(key.view());
  negative[1] = '\x80';
  EXPECT_NE(StorageKey::Decode(negative).status().message().find("negative"), std::string::npos);
}

}  // namespace
}  // namespace hanshiro
