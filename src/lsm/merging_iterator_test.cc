#include "lsm/merging_iterator.h"

#include <gtest/gtest.h>

#include "lsm/mem.h"

namespace hanshiro::lsm {
namespace {

std::string K(char c) {
  std::string k(25, c);
  k[0] = 1;
  return k;
}

std::shared_ptr<Mem> MemOf(std::vector<std::tuple<std::string, uint64_t, std::string>> entries) {
  auto m = std::make_shared<Mem>(nullptr);
  for (const auto& [k, s, v] : entries) m->Add(s, k, v);
  return m;
}

std::vector<std::string> Drain(sstable::Iterator* it) {
  std::vector<std::string> out;
  for (; it->Valid(); it->Next()) {
    std::string s(1, it->key()[1]);
    s += std::to_string(it->seq());
    s += it->value();
    out.push_back(std::move(s));
  }
  return out;
}

TEST(MergingIteratorTest, CollapsesTheSameRecordHeldTwiceButKeepsVersions) {
  // 'b' seq 5 is in both (a flushed table and a replayed memtable, say).
  std::vector<std::unique_ptr<sstable::Iterator>> children;
  children.push_back(NewMemIterator(MemOf({{K('a'), 1, "x"}, {K('b'), 5, "y"}, {K('c'), 9, "z"}})));
  children.push_back(NewMemIterator(MemOf({{K('b'), 5, "y"}, {K('b'), 7, "w"}, {K('d'), 2, "q"}})));
  auto merged = NewMergingIterator(std::move(children));
  merged->SeekToFirst();
  EXPECT_EQ(Drain(merged.get()), (std::vector<std::string>{"a1x", "b7w", "b5y", "c9z", "d2q"}));
}

TEST(MergingIteratorTest, NewestWithinBounds) {
  std::vector<std::unique_ptr<sstable::Iterator>> children;
  children.push_back(NewMemIterator(MemOf({{K('a'), 1, "x"}, {K('b'), 5, "y"}, {K('c'), 9, "z"}})));
  children.push_back(NewMemIterator(MemOf({{K('b'), 7, "w"}, {K('d'), 2, "q"}})));
  auto newest = NewNewestIterator(NewMergingIterator(std::move(children)), K('d'));
  newest->SeekToFirst();
  EXPECT_EQ(Drain(newest.get()), (std::vector<std::string>{"a1x", "b7w", "c9z"}));  // d is the bound
  newest->Seek(K('b'));
  EXPECT_EQ(Drain(newest.get()), (std::vector<std::string>{"b7w", "c9z"}));
}

}  // namespace
}  // namespace hanshiro::lsm
