// Storage for multi-megabyte streams (the packed couplings): 2 MiB aligned and,
// on Linux, advised for transparent huge pages. A pass over the couplings then
// takes a TLB miss per 2 MiB instead of per 4 KiB, and the hardware prefetcher,
// which stops at page boundaries, keeps streaming: this is what lets one thread
// approach the memory bandwidth.
#pragma once
#include <algorithm>
#include <cstdlib>
#include <memory>
#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace pspin {

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};

template <class T>
using StreamArray = std::unique_ptr<T[], FreeDeleter>;

template <class T>
StreamArray<T> allocate_stream(std::size_t count) {
  constexpr std::size_t kHuge = std::size_t(2) << 20;
  const std::size_t bytes = std::max<std::size_t>(sizeof(T), (count * sizeof(T) + kHuge - 1) / kHuge * kHuge);
  void* p = nullptr;
  if (posix_memalign(&p, kHuge, bytes) != 0 || p == nullptr) throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  madvise(p, bytes, MADV_HUGEPAGE);  // advisory: failure only costs speed
#endif
  return StreamArray<T>(static_cast<T*>(p));
}

}  // namespace pspin
