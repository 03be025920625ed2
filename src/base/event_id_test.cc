#include "hanshiro/event_id.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/id_generator.h"

namespace hanshiro {
namespace {

TEST(EventIdTest, CanonicalStringRoundTrips) {
  const EventId id(0x0190a3c27b1e7c4dull, 0x8f000123456789abull);
  EXPECT_EQ(id.ToString(), "0190a3c2-7b1e-7c4d-8f00-0123456789ab");
  auto parsed = EventId::Parse("0190a3c2-7b1e-7c4d-8f00-0123456789ab");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, id);
  auto upper = EventId::Parse("0190A3C2-7B1E-7C4D-8F00-0123456789AB");
  ASSERT_TRUE(upper.ok());
  EXPECT_EQ(*upper, id);
}

TEST(EventIdTest, HiLoFormRoundTrips) {
  const EventId id(18446744073709551615ull, 42);
  EXPECT_EQ(id.ToHiLoString(), "18446744073709551615/42");
  auto parsed = EventId::Parse("18446744073709551615/42");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, id);
}

TEST(EventIdTest, ParseRejectsMalformedWithReason) {
  const char* bad[] = {"",
                       "0190a3c2-7b1e-7c4d-8f00-0123456789a",    // short
                       "0190a3c2-7b1e-7c4d-8f00-0123456789abc",  // long
                       "0190a3c2x7b1e-7c4d-8f00-0123456789ab",   // dash
                       "0190a3c2-7b1e-7c4d-8f00-0123456789ag",   // hex
                       "1/",
                       "/1",
                       "18446744073709551616/1",  // overflow
                       "-1/2",
                       "1/2/3"};
  for (const char* text : bad) {
    auto r = EventId::Parse(text);
    EXPECT_FALSE(r.ok()) << text;
    if (!r.ok()) {
      EXPECT_TRUE(r.status().IsInvalidArgument());
      EXPECT_NE(r.status().message().find("event id"), std::string::npos);
    }
  }
  auto r = EventId::Parse("0190a3c2-7b1e-7c4d-8f00-0123456789ag");
  EXPECT_NE(r.status().message().find("position 35"), std::string::npos) << r.status().ToString();
}

TEST(EventIdTest, FromPartsLaysOutUuidV7) {
  const EventId id = EventId::FromParts(0x0190a3c27b1eull, 0xc4d, 0x0f000123456789abull);
  EXPECT_EQ(id.version(), 7u);
  EXPECT_EQ(id.unix_ms(), 0x0190a3c27b1eull);
  EXPECT_EQ(id.ToString(), "0190a3c2-7b1e-7c4d-8f00-0123456789ab");
  EXPECT_EQ(id.lo() >> 62, 0b10u);  // RFC 9562 variant
}

TEST(EventIdTest, OrdersByTimeThenRandomAndBytesSortAlike) {
  const EventId a = EventId::FromParts(1000, 5, 99);
  const EventId b = EventId::FromParts(1000, 6, 0);
  const EventId c = EventId::FromParts(1001, 0, 0);
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  char ea[16], eb[16], ec[16];
  a.EncodeTo(ea);
  b.EncodeTo(eb);
  c.EncodeTo(ec);
  EXPECT_LT(std::memcmp(ea, eb, 16), 0);
  EXPECT_LT(std::memcmp(eb, ec, 16), 0);
  EXPECT_EQ(EventId::DecodeFrom(eb), b);
}

TEST(IdGeneratorTest, IdsStrictlyIncreaseWithinOneMillisecond) {
  ManualClock clock(1'700'000'000'000'000'000);
  IdGenerator gen(&clock, 1);
  EventId prev = gen.Next();
  for (int i = 0; i < 10000; ++i) {  // more than the 12-bit counter holds
    const EventId next = gen.Next();
    ASSERT_LT(prev, next) << i;
    prev = next;
  }
  EXPECT_EQ(prev.version(), 7u);
}

// A batch is what as many Next() calls would give: increasing across the
// counter's wrap, and continuing the sequence of single calls around it.
TEST(IdGeneratorTest, NextManyContinuesTheSequence) {
  ManualClock clock(1'700'000'000'000'000'000);
  IdGenerator gen(&clock, 4);
  EventId prev = gen.Next();
  std::vector<EventId> batch(9000);  // more than one millisecond's counter
  gen.NextMany(batch);
  for (const EventId& id : batch) {
    ASSERT_LT(prev, id);
    prev = id;
  }
  clock.Set(1'700'000'000'000'000'000 + 5'000'000);  // 5 ms later
  gen.NextMany(std::span(batch).first(3));
  EXPECT_LT(prev, batch[0]);
  EXPECT_LT(batch[0], batch[1]);
  EXPECT_EQ(batch[0].unix_ms(), 1'700'000'000'005u);
  EXPECT_LT(batch[2], gen.Next());
  gen.NextMany({});  // nothing to do
}

TEST(IdGeneratorTest, IdsNeverDecreaseWhenClockStepsBack) {
  ManualClock clock(2'000'000'000);
  IdGenerator gen(&clock, 2);
  const EventId before = gen.Next();
  clock.Set(1'000'000'000);
  const EventId after = gen.Next();
  EXPECT_LT(before, after);
}

TEST(IdGeneratorTest, CarriesClockMillisecond) {
  ManualClock clock(1'700'000'000'123'456'789);
  IdGenerator gen(&clock, 3);
  EXPECT_EQ(gen.Next().unix_ms(), 1'700'000'000'123u);
}

TEST(IdGeneratorTest, ConcurrentCallersGetDistinctIds) {
  IdGenerator gen(Clock::System());
  std::vector<std::vector<EventId>> per_thread(4);
  std::vector<std::thread> threads;
  for (auto& ids : per_thread) {
    threads.emplace_back([&gen, &ids] {
      for (int i = 0; i < 2000; ++i) ids.push_back(gen.Next());
    });
  }
  for (auto& t : threads) t.join();
  std::vector<EventId> all;
  for (const auto& ids : per_thread) {
    for (size_t i = 1; i < ids.size(); ++i) ASSERT_LT(ids[i - 1], ids[i]);
    all.insert(all.end(), ids.begin(), ids.end());
  }
  std::sort(all.begin(), all.end());
  EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end());
}

}  // namespace
}  // namespace hanshiro
