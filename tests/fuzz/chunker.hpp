#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace pivot::fuzz {

/// Cuts an input into a pseudo-random sequence of chunk sizes derived from a seed byte, so a
/// fuzz target feeds an incremental parser "any split" of its input, reproducibly.
class Chunker {
 public:
  /// A chunker for `seed`; seed 0 means one chunk (the whole input at once).
  explicit Chunker(std::uint8_t seed) noexcept : state_(seed * 2654435761U + 1U), whole_(seed == 0) {}

  /// The next chunk of `rest` (at least one byte when `rest` is not empty).
  std::string_view next(std::string_view rest) noexcept {
    if (whole_ || rest.empty()) return rest;
    state_ = state_ * 1103515245U + 12345U;
    // Mostly tiny chunks (1..8 bytes) to hit every boundary, sometimes large ones.
    const std::size_t r = (state_ >> 16) & 0x7FFFU;
    const std::size_t n = (r & 0x7U) == 0 ? 1 + r % 512 : 1 + r % 8;
    return rest.substr(0, n < rest.size() ? n : rest.size());
  }

 private:
  std::uint32_t state_;
  bool whole_;
};

}  // namespace pivot::fuzz
