#include "memtable/memtable.h"

#include <cstring>
#include <random>
#include <vector>

#include "base/coding.h"
#include "hanshiro/status.h"

namespace hanshiro::memtable {

// A node: fixed fields, then `height` next pointers, then key and value bytes.
struct MemTable::Node {
  uint64_t seq;
  uint32_t key_size;
  uint32_t value_size;
  int height;
  std::atomic<Node*> next_[1];  // really `height` entries

  std::string_view key() const {
    return {reinterpret_cast<const char*>(&next_[height]), key_size};
  }
  std::string_view value() const {
    return {reinterpret_cast<const char*>(&next_[height]) + key_size, value_size};
  }
  Node* Next(int level) const { return next_[level].load(std::memory_order_acquire); }
  void SetNext(int level, Node* n) { next_[level].store(n, std::memory_order_release); }
};

MemTable::MemTable(BlockPool* pool) : arena_(pool) {
  head_ = reinterpret_cast<Node*>(arena_.Allocate(NodeSize(0, 0, kMaxHeight)));
  FillNode(head_, 0, {}, {}, kMaxHeight);
  for (int i = 0; i < kMaxHeight; ++i) {
    tail_[i] = head_;
    finger_[i] = head_;
  }
}

size_t MemTable::NodeSize(size_t key_size, size_t value_size, int height) {
  return offsetof(Node, next_) + sizeof(std::atomic<Node*>) * height + key_size + value_size;
}

void MemTable::FillNode(Node* n, uint64_t seq, std::string_view key, std::string_view value,
                        int height) {
  n->seq = seq;
  n->key_size = static_cast<uint32_t>(key.size());
  n->value_size = static_cast<uint32_t>(value.size());
  n->height = height;
  for (int i = 0; i < height; ++i) new (&n->next_[i]) std::atomic<Node*>(nullptr);
  char* data = reinterpret_cast<char*>(&n->next_[height]);
  if (!key.empty()) std::memcpy(data, key.data(), key.size());
  if (!value.empty()) std::memcpy(data + key.size(), value.data(), value.size());
}

int MemTable::RandomHeight() {
  // Per thread, since any thread may stage; the seed only varies the shape.
  thread_local std::minstd_rand rng(0x5eed);
  int h = 1;
  while (h < kMaxHeight && (rng() & 3) == 0) ++h;  // branching factor 4
  return h;
}

void MemTable::Stage(std::span<const Entry> entries, std::span<Node*> out) {
  thread_local std::vector<int> heights;
  heights.resize(entries.size());
  for (int& h : heights) h = RandomHeight();
  {
    // Only the bump allocation is serialized; the nodes are written (and
    // fresh memory faulted in) by each thread on its own.
    std::lock_guard lock(arena_mu_);
    for (size_t i = 0; i < entries.size(); ++i) {
      const Entry& e = entries[i];
      out[i] = reinterpret_cast<Node*>(arena_.Allocate(NodeSize(e.key.size(), e.value.size(), heights[i])));
    }
  }
  for (size_t i = 0; i < entries.size(); ++i) {
    FillNode(out[i], entries[i].seq, entries[i].key, entries[i].value, heights[i]);
  }
}

int MemTable::Compare(const Node* a, std::string_view key, uint64_t seq) {
  const std::string_view k = a->key();
  // Keys mostly differ in their first 8 bytes (a storage key's kind and the
  // top 7 bytes of its time; an id key's first half): those are compared as
  // one big-endian word, which is cheaper than the call to memcmp.
  if (k.size() >= 8 && key.size() >= 8) {
    const uint64_t x = DecodeBigEndian64(k.data());
    const uint64_t y = DecodeBigEndian64(key.data());
    if (x != y) return x < y ? -1 : 1;
  }
  const int c = k.compare(key);
  if (c != 0) return c < 0 ? -1 : 1;
  if (a->seq == seq) return 0;
  return a->seq > seq ? -1 : 1;  // newer first
}

MemTable::Node* MemTable::FindGreaterOrEqual(std::string_view key, uint64_t seq,
                                             Node** prev) const {
  Node* x = head_;
  for (int level = height_.load(std::memory_order_relaxed) - 1;; --level) {
    Node* next = x->Next(level);
    while (next != nullptr && Compare(next, key, seq) < 0) {
      x = next;
      next = x->Next(level);
    }
    if (prev != nullptr) prev[level] = x;
    if (level == 0) return next;
  }
}

void MemTable::FindFromFinger(std::string_view key, uint64_t seq, Node** prev) const {
  // Climb from the last insert while the key lies beyond its reach at that
  // level. Above the level where it stops, the last insert's predecessors
  // are the key's too: a node between them and the key would also stand at
  // the stopping level, before the key.
  const int top = height_.load(std::memory_order_relaxed) - 1;
  int level = 0;
  while (level < top) {
    const Node* next = finger_[level]->Next(level);
    if (next == nullptr || Compare(next, key, seq) >= 0) break;
    ++level;
  }
  for (int i = top; i > level; --i) prev[i] = finger_[i];
  // Then down as a search does, each level starting from the further of the
  // level above's answer and that level's finger (both precede the key).
  Node* x = finger_[level];
  for (int l = level; l >= 0; --l) {
    Node* f = finger_[l];
    if (f != head_ && (x == head_ || Compare(x, f->key(), f->seq) < 0)) x = f;
    Node* next = x->Next(l);
    while (next != nullptr && Compare(next, key, seq) < 0) {
      x = next;
      next = x->Next(l);
    }
    prev[l] = x;
  }
}

void MemTable::Add(uint64_t seq, std::string_view key, std::string_view value) {
  const Entry e{seq, key, value};
  Node* n = nullptr;
  Stage({&e, 1}, {&n, 1});
  Link(n);
}

void MemTable::Link(Node* n) {
  const std::string_view key = n->key();
  const uint64_t seq = n->seq;
  const int height = n->height;
  Node* prev[kMaxHeight];
  const Node* last = tail_[0];
  const bool append = last == head_ || Compare(last, key, seq) < 0;
  const int old_height = height_.load(std::memory_order_relaxed);
  if (append) {
    // The fast path: every level's predecessor is that level's last node.
    ++appends_;
    for (int i = 0; i < kMaxHeight; ++i) prev[i] = tail_[i];
  } else {
    // A key after the previous insert (a batch of ordered keys landing in
    // the middle) searches onward from there; any other from the head.
    if (last_added_ != nullptr && Compare(last_added_, key, seq) < 0) {
      FindFromFinger(key, seq, prev);
    } else {
      FindGreaterOrEqual(key, seq, prev);
    }
    for (int i = old_height; i < kMaxHeight; ++i) prev[i] = head_;
  }
  if (height > old_height) height_.store(height, std::memory_order_relaxed);
  for (int i = 0; i < height; ++i) {
    n->next_[i].store(prev[i]->Next(i), std::memory_order_relaxed);
    prev[i]->SetNext(i, n);  // publish
    if (n->Next(i) == nullptr) tail_[i] = n;
  }
  for (int i = 0; i < kMaxHeight; ++i) finger_[i] = i < height ? n : prev[i];
  last_added_ = n;
  entries_.fetch_add(1, std::memory_order_release);
}

bool MemTable::Get(std::string_view key, std::string* value, uint64_t* seq) const {
  const Node* n = FindGreaterOrEqual(key, UINT64_MAX, nullptr);
  if (n == nullptr || n->key() != key) return false;
  value->assign(n->value());
  if (seq != nullptr) *seq = n->seq;
  return true;
}
std::string MemTable::ApproximateMiddleKey() const {
  // The highest level with enough nodes for a middle to be meaningful;
  // walking it visits about entries / 4^level nodes.
  constexpr size_t kMinSample = 32;
  for (int level = height_.load(std::memory_order_acquire) - 1; level >= 0; --level) {
    size_t n = 0;
    for (const Node* x = head_->Next(level); x != nullptr; x = x->Next(level)) ++n;
    if (n < kMinSample) continue;
    const Node* x = head_->Next(level);
    for (size_t i = 0; i < n / 2; ++i) x = x->Next(level);
    return std::string(x->key());
  }
  return {};
}


void MemTable::Iterator::SeekToFirst() { node_ = table_->head_->Next(0); }
void MemTable::Iterator::Seek(std::string_view target) {
  node_ = table_->FindGreaterOrEqual(target, UINT64_MAX, nullptr);
}
void MemTable::Iterator::Next() { node_ = node_->Next(0); }
std::string_view MemTable::Iterator::key() const { return node_->key(); }
std::string_view MemTable::Iterator::value() const { return node_->value(); }
uint64_t MemTable::Iterator::seq() const { return node_->seq; }

}  // namespace hanshiro::memtable
