#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace pivot::http {

/// Makes X-Request-Id values: 128 random bits as 32 lower-case hex digits, from a small
/// per-session generator (xoshiro256**, seeded once from getrandom(2); not for secrets).
class RequestIdGenerator {
 public:
  /// Longest client-sent id we keep.
  static constexpr std::size_t kMaxClientId = 200;

  /// Seeds from getrandom(2) (std::random_device if that fails).
  RequestIdGenerator();

  /// Replaces `out` with a fresh id (no allocation once `out` has room for 32 chars).
  void next(std::string& out);
  /// True when a client-sent id may be kept: 1..200 printable ASCII characters.
  static bool acceptable(std::string_view id) noexcept;

 private:
  std::uint64_t next_u64() noexcept;
  std::uint64_t s_[4];
};

}  // namespace pivot::http
