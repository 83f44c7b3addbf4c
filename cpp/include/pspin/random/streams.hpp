// Which Philox counter each random draw of the samplers and the tempering
// driver uses. The layout is part of every trajectory: runs resume bit for bit
// and are reproducible across versions only while it never changes, and
// distinct purposes keep the streams of different moves from ever overlapping.
#pragma once
#include <cstdint>

#include "pspin/random/philox.hpp"

namespace pspin {

// Purposes in the fourth Philox counter word (bits 24..31), fixed forever.
enum class RandomPurpose : std::uint32_t { Swap = 1, IsingSweep = 2, SphereMomentum = 3, SphereAccept = 4 };

inline Philox4x32Counter philox_counter(std::uint32_t a, std::uint32_t b, std::uint64_t sweep, RandomPurpose purpose) {
  return {a, b, std::uint32_t(sweep), std::uint32_t(sweep >> 32) ^ (std::uint32_t(purpose) << 24)};
}

}  // namespace pspin
