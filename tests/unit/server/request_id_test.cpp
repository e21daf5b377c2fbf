#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "server/http/request_id.hpp"

using namespace pivot;

TEST_CASE("request ids: 32 hex digits, different every time; client ids are checked", "[http][request_id]") {
  http::RequestIdGenerator a;
  http::RequestIdGenerator b;
  std::set<std::string> seen;
  std::string id;
  for (int i = 0; i < 1000; ++i) {
    a.next(id);
    REQUIRE(id.size() == 32);
    REQUIRE(id.find_first_not_of("0123456789abcdef") == std::string::npos);
    seen.insert(id);
    b.next(id);
    seen.insert(id);
  }
  CHECK(seen.size() == 2000);  // two sessions do not repeat each other
  CHECK(http::RequestIdGenerator::acceptable("abc-123_DEF.4 x"));
  CHECK(http::RequestIdGenerator::acceptable(std::string(200, 'a')));
  CHECK_FALSE(http::RequestIdGenerator::acceptable(std::string(201, 'a')));
  CHECK_FALSE(http::RequestIdGenerator::acceptable(""));
  CHECK_FALSE(http::RequestIdGenerator::acceptable("a\tb"));
  CHECK_FALSE(http::RequestIdGenerator::acceptable("caf\xC3\xA9"));
}
