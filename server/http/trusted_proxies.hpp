#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/http_payload.hpp"
#include "server/config/config.hpp"

namespace pivot::http {

/// `http.trusted_subnets`: decides whether a TCP peer is a proxy we trust, and then takes the
/// client address and scheme from the forwarding headers it sent. Read-only after construction;
/// shared by every session of a listener.
class TrustedProxies {
 public:
  /// An address in the 16-byte form (IPv4 as ::ffff:a.b.c.d).
  using Address = std::array<std::uint8_t, 16>;

  /// Trusts the peers inside `subnets` (empty: nobody).
  explicit TrustedProxies(std::vector<config::Cidr> subnets) : subnets_(std::move(subnets)) {}

  /// True when no subnet is configured.
  bool empty() const noexcept { return subnets_.empty(); }
  /// True when `addr` lies in one of the subnets.
  bool contains(const Address& addr) const noexcept;
  /// Parses "1.2.3.4", "::1", "1.2.3.4:80" or "[::1]:80" into `out`; false when it is not an IP.
  static bool parse(std::string_view text, Address& out) noexcept;
  /// The canonical text of an address ("1.2.3.4", "2001:db8::1").
  static void format(const Address& addr, std::string& out);

  /// For a request from a trusted peer: `remote_ip` becomes the right-most address of
  /// X-Forwarded-For that is not itself trusted (the left-most when all are), or else the
  /// X-Real-IP address; `https` is set from X-Forwarded-Proto (right-most value, http or https).
  /// Unparseable values are ignored. Headers must be in canonical form.
  void resolve(std::span<const protocol::HeaderField> headers, std::string& remote_ip, bool& https) const;

 private:
  std::vector<config::Cidr> subnets_;
};

}  // namespace pivot::http
