#include "lsm/merging_iterator.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace hanshiro::lsm {

namespace {

using sstable::Iterator;

// a after b in internal order (a heap of these keeps the least on top).
bool After(const Iterator* a, const Iterator* b) {
  const int cmp = a->key().compare(b->key());
  return cmp > 0 || (cmp == 0 && a->seq() < b->seq());
}

class MergingIterator final : public Iterator {
 public:
  explicit MergingIterator(std::vector<std::unique_ptr<Iterator>> children)
      : children_(std::move(children)) {}

  bool Valid() const override { return !heap_.empty(); }
  std::string_view key() const override { return heap_.front()->key(); }
  uint64_t seq() const override { return heap_.front()->seq(); }
  std::string_view value() const override { return heap_.front()->value(); }
  Status status() const override {
    for (const auto& c : children_) {
      if (Status s = c->status(); !s.ok()) return s;
    }
    return Status::OK();
  }

  void SeekToFirst() override {
    for (auto& c : children_) c->SeekToFirst();
    Rebuild();
  }
  void Seek(std::string_view target) override {
    for (auto& c : children_) c->Seek(target);
    Rebuild();
  }
  void Next() override {
    std::memcpy(last_key_, key().data(), sizeof(last_key_));
    const uint64_t last_seq = seq();
    // Advance every child sitting on this exact entry (duplicates).
    do {
      std::pop_heap(heap_.begin(), heap_.end(), After);
      Iterator* top = heap_.back();
      heap_.pop_back();
      top->Next();
      if (top->Valid()) {
        heap_.push_back(top);
        std::push_heap(heap_.begin(), heap_.end(), After);
      } else if (!top->status().ok()) {
        heap_.clear();  // an error ends iteration; status() reports it
        return;
      }
    } while (!heap_.empty() && heap_.front()->seq() == last_seq &&
             heap_.front()->key() == std::string_view(last_key_, sizeof(last_key_)));
  }

 private:
  void Rebuild() {
    heap_.clear();
    for (auto& c : children_) {
      if (c->Valid()) {
        heap_.push_back(c.get());
      } else if (!c->status().ok()) {
        heap_.clear();
        return;
      }
    }
    std::make_heap(heap_.begin(), heap_.end(), After);
  }

  std::vector<std::unique_ptr<Iterator>> children_;
  std::vector<Iterator*> heap_;
  char last_key_[25] = {};
};

class NewestIterator final : public Iterator {
 public:
  NewestIterator(std::unique_ptr<Iterator> base, std::string upper)
      : base_(std::move(base)), upper_(std::move(upper)) {}

  bool Valid() const override {
    return base_->Valid() && (upper_.empty() || base_->key() < upper_);
  }
  std::string_view key() const override { return base_->key(); }
  uint64_t seq() const override { return base_->seq(); }
  std::string_view value() const override { return base_->value(); }
  Status status() const override { return base_->status(); }
  void SeekToFirst() override { base_->SeekToFirst(); }
  void Seek(std::string_view target) override { base_->Seek(target); }
  void Next() override {
    char current[25];
    std::memcpy(current, base_->key().data(), sizeof(current));
    do {
      base_->Next();
    } while (base_->Valid() && base_->key() == std::string_view(current, sizeof(current)));
  }

 private:
  std::unique_ptr<Iterator> base_;
  const std::string upper_;
};

}  // namespace

std::unique_ptr<Iterator> NewMergingIterator(std::vector<std::unique_ptr<Iterator>> children) {
  return std::make_unique<MergingIterator>(std::move(children));
}

std::unique_ptr<Iterator> NewNewestIterator(std::unique_ptr<Iterator> base, std::string upper) {
  return std::make_unique<NewestIterator>(std::move(base), std::move(upper));
}

}  // namespace hanshiro::lsm
