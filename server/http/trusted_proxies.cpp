#include "server/http/trusted_proxies.hpp"

#include <arpa/inet.h>

#include <cstring>

namespace pivot::http {
namespace {

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if ((a[i] | 0x20) != (b[i] | 0x20)) return false;
  }
  return true;
}

bool is_v4_mapped(const TrustedProxies::Address& a) noexcept {
  for (int i = 0; i < 10; ++i) {
    if (a[i] != 0) return false;
  }
  return a[10] == 0xff && a[11] == 0xff;
}

}  // namespace

bool TrustedProxies::contains(const Address& addr) const noexcept {
  for (const auto& c : subnets_) {
    const unsigned full = c.prefix / 8;
    if (std::memcmp(addr.data(), c.address.data(), full) != 0) continue;
    const unsigned rest = c.prefix % 8;
    if (rest != 0) {
      const auto mask = static_cast<std::uint8_t>(0xFF00U >> rest);
      if ((addr[full] & mask) != c.address[full]) continue;
    }
    return true;
  }
  return false;
}

bool TrustedProxies::parse(std::string_view text, Address& out) noexcept {
  text = trim(text);
  if (text.size() >= 2 && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) return false;
    text = text.substr(1, close - 1);
  } else if (text.find(':') != std::string_view::npos && text.find(':') == text.rfind(':')) {
    text = text.substr(0, text.find(':'));  // "1.2.3.4:80"
  }
  char buf[64];
  if (text.empty() || text.size() >= sizeof buf) return false;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  in_addr a4{};
  if (::inet_pton(AF_INET, buf, &a4) == 1) {
    out.fill(0);
    out[10] = 0xff;
    out[11] = 0xff;
    std::memcpy(out.data() + 12, &a4, 4);
    return true;
  }
  in6_addr a6{};
  if (::inet_pton(AF_INET6, buf, &a6) == 1) {
    std::memcpy(out.data(), &a6, 16);
    return true;
  }
  return false;
}

void TrustedProxies::format(const Address& addr, std::string& out) {
  char buf[INET6_ADDRSTRLEN];
  const char* s = is_v4_mapped(addr) ? ::inet_ntop(AF_INET, addr.data() + 12, buf, sizeof buf)
                                     : ::inet_ntop(AF_INET6, addr.data(), buf, sizeof buf);
  out.assign(s != nullptr ? s : "");
}

void TrustedProxies::resolve(std::span<const protocol::HeaderField> headers, std::string& remote_ip, bool& https) const {
  bool have_xff = false;
  bool found = false;       // an untrusted hop was found
  bool have_candidate = false;
  Address candidate{};
  // X-Forwarded-For lists hops left to right; several header lines form one list.
  for (std::size_t h = headers.size(); h-- > 0 && !found;) {
    if (headers[h].name != "X-Forwarded-For") continue;
    have_xff = true;
    std::string_view list = headers[h].value;
    while (!list.empty() && !found) {
      const std::size_t comma = list.rfind(',');
      const std::string_view item = comma == std::string_view::npos ? list : list.substr(comma + 1);
      list = comma == std::string_view::npos ? std::string_view{} : list.substr(0, comma);
      Address a{};
      if (!parse(item, a)) {
        // Garbage in the chain: trust nothing to its left.
        found = true;
        break;
      }
      candidate = a;
      have_candidate = true;
      if (!contains(a)) found = true;
    }
  }
  if (have_candidate) {
    format(candidate, remote_ip);
  } else if (!have_xff) {
    for (const auto& h : headers) {
      if (h.name != "X-Real-Ip") continue;
      Address a{};
      if (parse(h.value, a)) format(a, remote_ip);
      break;
    }
  }
  for (std::size_t h = headers.size(); h-- > 0;) {
    if (headers[h].name != "X-Forwarded-Proto") continue;
    std::string_view v = headers[h].value;
    if (const std::size_t comma = v.rfind(','); comma != std::string_view::npos) v = v.substr(comma + 1);
    v = trim(v);
    if (iequals(v, "https")) https = true;
    if (iequals(v, "http")) https = false;
    break;
  }
}

}  // namespace pivot::http
