// Packed storage of one coupling degree: one value per index tuple
// i1 < i2 < ... < ip ("distinct") or i1 <= ... <= ip ("multiset", the
// isotropic ensemble), in lexicographic order, so the last index runs
// contiguously. A "row" is a prefix (i1..i_{p-1}) with its contiguous run of
// last indices k in [lo, n).
#pragma once
#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <vector>

namespace pspin {

constexpr int kMaxDegree = 16;

inline std::uint64_t binomial(std::uint64_t n, std::uint64_t k) {
  if (k > n) return 0;
  k = std::min(k, n - k);
  unsigned __int128 result = 1;
  for (std::uint64_t i = 1; i <= k; ++i) {
    result = result * (n - k + i) / i;
    if (result > ~std::uint64_t(0)) throw std::overflow_error("tuple count overflows 64 bits");
  }
  return std::uint64_t(result);
}

struct TupleLayout {
  int n = 0;
  int p = 0;
  bool multiset = false;

  TupleLayout() = default;
  TupleLayout(int n_, int p_, bool multiset_) : n(n_), p(p_), multiset(multiset_) {
    if (p < 2 || p > kMaxDegree) throw std::invalid_argument("degree must be in [2, 16]");
    if (n < (multiset ? 1 : p)) throw std::invalid_argument("too few spins for this degree");
  }

  // Tuples whose first index is >= a.
  std::uint64_t count_from(int a) const {
    const std::uint64_t m = std::uint64_t(n - a);
    return multiset ? binomial(m + p - 1, p) : binomial(m, p);
  }
  std::uint64_t size() const { return count_from(0); }
  std::uint64_t offset_of_first(int a) const { return size() - count_from(a); }
  // First indices that own at least one tuple.
  int first_index_end() const { return multiset ? n : n - p + 1; }
  // Largest allowed value at prefix position m (0-based, m < p-1).
  int prefix_max(int m) const { return multiset ? n - 1 : n - p + m; }
  int row_start(int last_prefix) const { return multiset ? last_prefix : last_prefix + 1; }

  // Split the first indices into `parts` ranges of nearly equal tuple counts.
  // Depends only on (n, p, multiset, parts), never on the thread count.
  std::vector<int> split_first_indices(int parts) const {
    const int end = first_index_end();
    parts = std::max(1, std::min(parts, end));
    std::vector<int> bounds{0};
    const long double total = (long double)size();
    int a = 0;
    for (int part = 1; part < parts; ++part) {
      const long double target = total * part / parts;
      while (a < end && (long double)offset_of_first(a) < target) ++a;
      if (a > bounds.back() && a < end) bounds.push_back(a);
    }
    bounds.push_back(end);
    return bounds;
  }
};

// Walks the rows whose first index lies in [first_begin, first_end).
struct RowCursor {
  const TupleLayout* layout;
  int first_end;
  int prefix[kMaxDegree];
  std::uint64_t offset;  // packed index of the row's first entry

  RowCursor(const TupleLayout& l, int first_begin, int first_end_)
      : layout(&l), first_end(first_end_), offset(l.offset_of_first(first_begin)) {
    prefix[0] = first_begin;
    fill_from(1);
  }
  int prefix_len() const { return layout->p - 1; }
  bool valid() const { return prefix[0] < first_end; }
  int lo() const { return layout->row_start(prefix[prefix_len() - 1]); }
  int length() const { return layout->n - lo(); }
  // How many rows, this one included, differ only in the last prefix index.
  int run_length() const {
    const int m = prefix_len() - 1;
    return layout->prefix_max(m) - prefix[m] + 1;
  }

  // Whether the next row exists in this range and continues this run, so the
  // two rows can share one sweep over their common last indices.
  bool next_in_run() const {
    return run_length() >= 2 && (prefix_len() > 1 || prefix[0] + 1 < first_end);
  }

  void advance() {
    offset += std::uint64_t(length());
    int m = prefix_len() - 1;
    while (m >= 0) {
      if (++prefix[m] <= layout->prefix_max(m)) break;
      --m;
    }
    if (m < 0) {  // walked past the last row
      prefix[0] = first_end;
      return;
    }
    fill_from(m + 1);
  }

 private:
  void fill_from(int m) {
    for (; m < prefix_len(); ++m) prefix[m] = layout->multiset ? prefix[m - 1] : prefix[m - 1] + 1;
  }
};

}  // namespace pspin
