// HugeArray<T>: a fixed-size, zero-filled array in its own anonymous mapping,
// advised to use transparent huge pages, for the large in-memory tables of
// the vector store and the memtable. On virtual machines every 4 KiB page fault is costly; a
// 2 MiB page takes one fault for 512 of them. T must be trivially copyable
// and valid when all bytes are zero. Move-only; not thread-safe.
#ifndef HANSHIRO_BASE_HUGE_ARRAY_H_
#define HANSHIRO_BASE_HUGE_ARRAY_H_

#include <sys/mman.h>

#include <cstddef>
#include <type_traits>
#include <utility>

#include "hanshiro/status.h"

namespace hanshiro {

template <typename T>
class HugeArray {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  HugeArray() = default;
  // populate: fault every page in now (where this runs), not on first use.
  explicit HugeArray(size_t n, bool populate = false) : size_(n) {
    if (n == 0) return;
    constexpr size_t kHuge = size_t{2} << 20;
    bytes_ = (n * sizeof(T) + kHuge - 1) / kHuge * kHuge;
    void* p = ::mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    HANSHIRO_CHECK(p != MAP_FAILED);  // out of memory: fatal, as for operator new
    (void)::madvise(p, bytes_, MADV_HUGEPAGE);
    if (populate) (void)::madvise(p, bytes_, 23 /* MADV_POPULATE_WRITE, Linux 5.14+ */);
    data_ = static_cast<T*>(p);
  }
  ~HugeArray() {
    if (data_ != nullptr) ::munmap(data_, bytes_);
  }
  HugeArray(HugeArray&& o) noexcept { *this = std::move(o); }
  HugeArray& operator=(HugeArray&& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    std::swap(bytes_, o.bytes_);
    return *this;
  }

  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }

 private:
  T* data_ = nullptr;
  size_t size_ = 0;
  size_t bytes_ = 0;
};

}  // namespace hanshiro

#endif  // HANSHIRO_BASE_HUGE_ARRAY_H_
