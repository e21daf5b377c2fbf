#include "server/http/request_id.hpp"

#include <sys/random.h>

#include <random>

namespace pivot::http {
namespace {

std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }

std::uint64_t splitmix64(std::uint64_t& x) noexcept {
  std::uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

}  // namespace

RequestIdGenerator::RequestIdGenerator() {
  // getrandom(2) first: constructing a std::random_device runs CPUID (a VM exit under
  // virtualisation), which cost 15 % of the server's CPU under connection churn (one generator per
  // session; found by tests/chaos/slowloris.sh).
  std::uint64_t seed = 0;
  if (::getrandom(&seed, sizeof seed, GRND_NONBLOCK) != static_cast<ssize_t>(sizeof seed)) {
    std::random_device rd;
    seed = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  }
  for (auto& s : s_) s = splitmix64(seed);
}

std::uint64_t RequestIdGenerator::next_u64() noexcept {
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

void RequestIdGenerator::next(std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.resize(32);
  for (int half = 0; half < 2; ++half) {
    std::uint64_t v = next_u64();
    for (int i = 0; i < 16; ++i) {
      out[static_cast<std::size_t>(half * 16 + 15 - i)] = kHex[v & 0xF];
      v >>= 4;
    }
  }
}

bool RequestIdGenerator::acceptable(std::string_view id) noexcept {
  if (id.empty() || id.size() > kMaxClientId) return false;
  for (const char c : id) {
    if (c < 0x20 || c > 0x7E) return false;
  }
  return true;
}

}  // namespace pivot::http
