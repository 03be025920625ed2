#include "lsm/manifest.h"

#include <gtest/gtest.h>

#include "env/fault_injection_env.h"
#include "env/test_dir.h"

namespace hanshiro::lsm {
namespace {

TableMeta Table(uint64_t number, int level, int64_t time, char lo, char hi) {
  TableMeta t;
  t.number = number;
  t.level = level;
  t.partition = PartitionOf(time, kHourNs);
  t.file_size = 1000 + number;
  t.entries = 10 * number;
  t.min_key = std::string(25, lo);
  t.max_key = std::string(25, hi);
  t.min_key[0] = t.max_key[0] = 1;
  t.min_seq = number * 100;
  t.max_seq = number * 100 + 99;
  t.min_id.fill(1);
  t.max_id.fill(9);
  t.min_time = time;
  t.max_time = time + 5;
  return t;
}

Version Sample() {
  Version v;
  v.edit = 7;
  v.window_ns = kHourNs;
  v.next_table = 12;
  v.wal_position = 4242;
  v.tables = {Table(3, 0, 7 * kHourNs, 'a', 'z'), Table(5, 1, 7 * kHourNs, 'a', 'c'),
              Table(6, 1, 7 * kHourNs, 'd', 'f'), Table(11, 1, 9 * kHourNs, 'a', 'z')};
  v.dropped = {{2 * kHourNs, 4, 400, 4096, 0, 99, 123}};
  v.Sort();
  return v;
}

TEST(ManifestTest, RoundTrips) {
  const Version v = Sample();
  auto back = manifest::Decode(manifest::Encode(v), "m");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, v);
}

TEST(ManifestTest, EmptyStoreMatchesTheWorkedExample) {
  Version v;
  v.edit = 1;
  v.window_ns = kHourNs;
  const std::string bytes = manifest::Encode(v);
  EXPECT_EQ(bytes.substr(0, 27),
            std::string("HSMANIFS\x01\0\0\0\x0b\0\0\0\x01\x80\xc0\xe2\x85\xe3\x68\x01\0\0\0", 27));
  EXPECT_EQ(bytes.size(), 31u);
}

TEST(ManifestTest, EveryTruncationAndBitFlipIsCorruption) {
  const std::string bytes = manifest::Encode(Sample());
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_TRUE(manifest::Decode(bytes.substr(0, n), "m").status().IsCorruption()) << n;
  }
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string b = bytes;
      b[i] = static_cast<char>(b[i] ^ (1 << bit));
      EXPECT_TRUE(manifest::Decode(b, "m").status().IsCorruption()) << i << " " << bit;
    }
  }
}

// Versions that checksum fine but break a rule (a writer bug or a crafted
// file): each is refused, naming the rule.
TEST(ManifestTest, RuleViolationsAreNamed) {
  auto expect_rule = [](Version v, const char* rule) {
    auto r = manifest::Decode(manifest::Encode(v), "m");
    ASSERT_FALSE(r.ok()) << rule;
    EXPECT_NE(r.status().message().find(rule), std::string::npos) << r.status().message();
  };
  Version v = Sample();
  v.window_ns = 12345;
  expect_rule(v, "[MAN-3]");
  v = Sample();
  v.next_table = 11;
  expect_rule(v, "[MAN-3]");
  v = Sample();
  v.tables[0].partition += 1;
  expect_rule(v, "[MAN-4]");
  v = Sample();
  v.tables[0].max_time = v.tables[0].partition + kHourNs;
  expect_rule(v, "[MAN-4]");
  v = Sample();
  v.tables[2].min_key = v.tables[1].max_key;  // level-1 overlap
  expect_rule(v, "[MAN-5]");
  v = Sample();
  v.dropped.push_back(v.dropped[0]);
  expect_rule(v, "[MAN-6]");
}

TEST(ManifestTest, InstallIsAtomicAcrossAPowerCut) {
  testing::TestDir dir;
  FaultInjectionEnv env(Env::Default());
  Version a = Sample();
  ASSERT_TRUE(manifest::Install(&env, dir.path(), a).ok());
  Version b = a;
  b.edit = 8;
  b.wal_position = 5000;
  // The second install's temp file fails to sync: it never replaces the first.
  env.FailSyncAt(1);
  EXPECT_FALSE(manifest::Install(&env, dir.path(), b).ok());
  ASSERT_TRUE(env.SimulatePowerLoss().ok());
  env.ClearFaults();
  auto loaded = manifest::Load(&env, dir.path());
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ(**loaded, a);
  // And a good install after the cut replaces it.
  ASSERT_TRUE(manifest::Install(&env, dir.path(), b).ok());
  ASSERT_TRUE(env.SimulatePowerLoss().ok());
  loaded = manifest::Load(&env, dir.path());
  ASSERT_TRUE(loaded.ok() && loaded->has_value());
  EXPECT_EQ(**loaded, b);
}

}  // namespace
}  // namespace hanshiro::lsm
