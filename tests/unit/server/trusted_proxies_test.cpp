#include <catch2/catch.hpp>

#include <vector>

#include "server/config/config_error.hpp"
#include "server/config/loader.hpp"
#include "server/http/trusted_proxies.hpp"

using namespace pivot;
using http::TrustedProxies;

namespace {

TrustedProxies proxies(const std::string& list) {
  const auto cfg = config::parse_config("version: \"3\"\nserver:\n  command: php w.php\nhttp:\n  trusted_subnets: " + list + "\n", "t.yaml", {},
                                        [](const std::string&) -> std::optional<std::string> { return std::nullopt; });
  return TrustedProxies(cfg.http.trusted_subnets);
}

TrustedProxies::Address addr(const std::string& text) {
  TrustedProxies::Address a{};
  REQUIRE(TrustedProxies::parse(text, a));
  return a;
}

struct Resolved {
  std::string ip = "127.0.0.1";
  bool https = false;
};

Resolved resolve(const TrustedProxies& p, std::vector<protocol::HeaderField> headers) {
  Resolved r;
  p.resolve(headers, r.ip, r.https);
  return r;
}

}  // namespace

TEST_CASE("CIDR membership for IPv4, IPv6 and IPv4-mapped peers", "[http][proxies]") {
  const auto p = proxies(R"(["10.0.0.0/8", "192.168.1.0/24", "127.0.0.1", "fd00::/8", "2001:db8::1/128", "172.16.5.9/12"])");
  CHECK(p.contains(addr("10.1.2.3")));
  CHECK_FALSE(p.contains(addr("11.0.0.1")));
  CHECK(p.contains(addr("192.168.1.200")));
  CHECK_FALSE(p.contains(addr("192.168.2.1")));
  CHECK(p.contains(addr("127.0.0.1")));
  CHECK_FALSE(p.contains(addr("127.0.0.2")));
  CHECK(p.contains(addr("fd12::1")));
  CHECK_FALSE(p.contains(addr("fe80::1")));
  CHECK(p.contains(addr("2001:db8::1")));
  CHECK_FALSE(p.contains(addr("2001:db8::2")));
  CHECK(p.contains(addr("::ffff:10.9.9.9")));
  CHECK(p.contains(addr("172.31.255.255")));  // host bits of 172.16.5.9/12 are cleared
  CHECK_FALSE(proxies("[]").contains(addr("127.0.0.1")));
  CHECK(proxies("[\"0.0.0.0/0\"]").contains(addr("8.8.8.8")));
  CHECK_FALSE(proxies("[\"0.0.0.0/0\"]").contains(addr("2001:db8::1")));
}

TEST_CASE("bad CIDRs name the key", "[http][proxies][config]") {
  using Catch::Matchers::Contains;
  CHECK_THROWS_WITH(proxies("[\"10.0.0.0/33\"]"), Contains("http.trusted_subnets[0]") && Contains("is not a CIDR"));
  CHECK_THROWS_WITH(proxies("[\"10.0.0.0/8\", \"nope\"]"), Contains("http.trusted_subnets[1]"));
  CHECK_THROWS_WITH(proxies("\"10.0.0.0/8\""), Contains("http.trusted_subnets") && Contains("list"));
}

TEST_CASE("addresses parse with ports and brackets and print canonically", "[http][proxies]") {
  std::string out;
  TrustedProxies::format(addr(" 1.2.3.4:8080 "), out);
  CHECK(out == "1.2.3.4");
  TrustedProxies::format(addr("[2001:DB8:0::1]:443"), out);
  CHECK(out == "2001:db8::1");
  TrustedProxies::format(addr("::ffff:1.2.3.4"), out);
  CHECK(out == "1.2.3.4");
  TrustedProxies::Address a{};
  CHECK_FALSE(TrustedProxies::parse("example.com", a));
  CHECK_FALSE(TrustedProxies::parse("", a));
  CHECK_FALSE(TrustedProxies::parse("1.2.3.4<script>", a));
}

TEST_CASE("X-Forwarded-For gives the right-most untrusted hop", "[http][proxies]") {
  const auto p = proxies(R"(["127.0.0.0/8", "10.0.0.0/8"])");
  CHECK(resolve(p, {{"X-Forwarded-For", "1.2.3.4"}}).ip == "1.2.3.4");
  CHECK(resolve(p, {{"X-Forwarded-For", "6.6.6.6, 5.6.7.8, 10.0.0.1, 127.0.0.2"}}).ip == "5.6.7.8");
  CHECK(resolve(p, {{"X-Forwarded-For", "6.6.6.6"}, {"X-Forwarded-For", "5.6.7.8, 10.0.0.1"}}).ip == "5.6.7.8");
  CHECK(resolve(p, {{"X-Forwarded-For", "10.0.0.2, 10.0.0.1"}}).ip == "10.0.0.2");  // all trusted: the left-most
  CHECK(resolve(p, {{"X-Forwarded-For", "garbage"}}).ip == "127.0.0.1");
  CHECK(resolve(p, {{"X-Forwarded-For", "6.6.6.6, garbage, 10.0.0.1"}}).ip == "10.0.0.1");
  CHECK(resolve(p, {{"X-Real-Ip", "9.9.9.9"}}).ip == "9.9.9.9");
  CHECK(resolve(p, {{"X-Real-Ip", "9.9.9.9"}, {"X-Forwarded-For", "1.2.3.4"}}).ip == "1.2.3.4");
  CHECK(resolve(p, {{"X-Real-Ip", "not-an-ip"}}).ip == "127.0.0.1");
  CHECK(resolve(p, {}).ip == "127.0.0.1");
}

TEST_CASE("X-Forwarded-Proto sets the scheme", "[http][proxies]") {
  const auto p = proxies(R"(["127.0.0.0/8"])");
  CHECK(resolve(p, {{"X-Forwarded-Proto", "https"}}).https);
  CHECK(resolve(p, {{"X-Forwarded-Proto", "HTTPS"}}).https);
  CHECK_FALSE(resolve(p, {{"X-Forwarded-Proto", "https, http"}}).https);
  CHECK_FALSE(resolve(p, {{"X-Forwarded-Proto", "gopher"}}).https);
  CHECK_FALSE(resolve(p, {}).https);
}
