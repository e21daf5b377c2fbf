#include "server/http/byte_range.hpp"

#include <charconv>

namespace pivot::http {
namespace {

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

/// A non-empty run of digits that fits in 64 bits.
bool parse_number(std::string_view s, std::uint64_t& out) noexcept {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

bool iequals_bytes(std::string_view s) noexcept {
  constexpr std::string_view kUnit = "bytes";
  if (s.size() != kUnit.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if ((s[i] | 0x20) != kUnit[i]) return false;
  }
  return true;
}

}  // namespace

RangeRequest parse_byte_range(std::string_view header, std::uint64_t size, ByteRange& out) noexcept {
  header = trim(header);
  const auto eq = header.find('=');
  if (eq == std::string_view::npos || !iequals_bytes(trim(header.substr(0, eq)))) return RangeRequest::full;
  const std::string_view spec = trim(header.substr(eq + 1));
  // Several ranges would need multipart/byteranges; the whole representation is a valid answer.
  if (spec.find(',') != std::string_view::npos) return RangeRequest::full;
  const auto dash = spec.find('-');
  if (dash == std::string_view::npos) return RangeRequest::full;
  const std::string_view a = trim(spec.substr(0, dash));
  const std::string_view b = trim(spec.substr(dash + 1));
  if (a.empty()) {
    // Suffix range: the last n bytes.
    std::uint64_t n = 0;
    if (!parse_number(b, n)) return RangeRequest::full;
    if (n == 0 || size == 0) return RangeRequest::unsatisfiable;
    out.first = n >= size ? 0 : size - n;
    out.last = size - 1;
    return RangeRequest::single;
  }
  std::uint64_t first = 0;
  if (!parse_number(a, first)) return RangeRequest::full;
  std::uint64_t last = 0;
  if (b.empty()) {
    last = UINT64_MAX;
  } else if (!parse_number(b, last) || last < first) {
    return RangeRequest::full;  // an invalid range-spec: the field is ignored
  }
  if (first >= size) return RangeRequest::unsatisfiable;
  out.first = first;
  out.last = last >= size ? size - 1 : last;
  return RangeRequest::single;
}

}  // namespace pivot::http
