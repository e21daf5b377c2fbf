#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace pivot::protocol {

/// A small forward-only JSON reader for the few shapes we decode on the data path (response
/// contexts, control frames). No allocation beyond the strings the caller asks for.
class JsonReader {
 public:
  /// Reads from `text`; the reader borrows it.
  explicit JsonReader(std::string_view text) noexcept : s_(text) {}

  /// Skips whitespace and returns the next character without consuming it ('\0' at the end).
  char peek() noexcept;
  /// Consumes `c` after whitespace; false when the next character is something else.
  bool consume(char c) noexcept;
  /// Reads a JSON string into `out` (escapes decoded, \u surrogate pairs joined).
  bool read_string(std::string& out);
  /// Reads a JSON number as an integer (fractions are truncated).
  bool read_int(std::int64_t& out) noexcept;
  /// Reads `true` or `false`.
  bool read_bool(bool& out) noexcept;
  /// Skips any one JSON value, nested at most `depth` levels.
  bool skip_value(int depth = 64);
  /// True when only whitespace remains.
  bool at_end() noexcept;

 private:
  bool literal(std::string_view word) noexcept;

  std::string_view s_;
  std::size_t i_ = 0;
};

/// Reads the integer member `key` of a flat JSON object (control frames: {"pid":123}).
/// Returns false when the text is not an object or the member is absent or not a number.
bool json_find_int(std::string_view object, std::string_view key, std::int64_t& out);

/// Reads the boolean member `key` of a flat JSON object ({"stop":true}).
bool json_find_bool(std::string_view object, std::string_view key, bool& out);

}  // namespace pivot::protocol
