#pragma once

#include <cstdint>
#include <string_view>

namespace pivot::http {

/// One satisfiable byte range, inclusive at both ends (`Content-Range: bytes first-last/size`).
struct ByteRange {
  std::uint64_t first = 0;  ///< first byte offset
  std::uint64_t last = 0;   ///< last byte offset (inclusive)
  /// Number of bytes in the range.
  std::uint64_t length() const noexcept { return last - first + 1; }
};

/// What a Range header asks of a representation of `size` bytes (RFC 9110 §14.2).
enum class RangeRequest {
  full,           ///< no usable Range: malformed, not "bytes", or several ranges (sent whole, 200)
  single,         ///< one satisfiable range (206 with Content-Range)
  unsatisfiable,  ///< one range that selects nothing (416 with Content-Range: bytes */size)
};

/// Parses a Range header value: "bytes=a-b", "bytes=a-" or "bytes=-n". A range past the end is
/// clipped to the end; "bytes=-n" with n >= size is the whole representation.
RangeRequest parse_byte_range(std::string_view header, std::uint64_t size, ByteRange& out) noexcept;

}  // namespace pivot::http
