#include <catch2/catch.hpp>

#include <vector>

#include "server/pool/take_back_plan.hpp"

using pivot::pool::plan_take_back;

TEST_CASE("take-back: the worker is inside its current request, every queued frame is whole in the pipe", "[pool][take_back]") {
  const std::vector<std::size_t> queued{300, 500};
  const auto p = plan_take_back(1000, queued, 800);
  CHECK(p.consistent);
  CHECK(p.keep == 0);
  CHECK(p.put_back == 0);
}

TEST_CASE("take-back: a queued frame the worker read whole (buffered) stays, the rest is taken", "[pool][take_back]") {
  const std::vector<std::size_t> queued{300, 500};
  const auto p = plan_take_back(1000, queued, 500);
  CHECK(p.keep == 1);
  CHECK(p.put_back == 0);
}

TEST_CASE("take-back: a queued frame read in part stays and its unread bytes go back", "[pool][take_back]") {
  const std::vector<std::size_t> queued{300, 500, 200};
  // consumed = 2000 - 850 = 1150: 150 bytes into the first queued frame.
  const auto p = plan_take_back(1000, queued, 850);
  CHECK(p.keep == 1);
  CHECK(p.put_back == 150);
  // consumed = 2000 - 600 = 1400: 100 bytes into the second queued frame.
  const auto q = plan_take_back(1000, queued, 600);
  CHECK(q.keep == 2);
  CHECK(q.put_back == 400);
}

TEST_CASE("take-back: the current frame not yet read goes back whole, queued frames are taken", "[pool][take_back]") {
  const std::vector<std::size_t> queued{300};
  const auto all_unread = plan_take_back(1000, queued, 1300);
  CHECK(all_unread.keep == 0);
  CHECK(all_unread.put_back == 1000);
  const auto partly = plan_take_back(1000, queued, 700);  // 600 bytes of the current frame read
  CHECK(partly.keep == 0);
  CHECK(partly.put_back == 400);
}

TEST_CASE("take-back: everything read, nothing to take or put back", "[pool][take_back]") {
  const std::vector<std::size_t> queued{300, 500};
  const auto p = plan_take_back(1000, queued, 0);
  CHECK(p.keep == 2);
  CHECK(p.put_back == 0);
}

TEST_CASE("take-back: more bytes than were written means unknown contents, all go back", "[pool][take_back]") {
  const std::vector<std::size_t> queued{300};
  const auto p = plan_take_back(1000, queued, 1301);
  CHECK_FALSE(p.consistent);
  CHECK(p.keep == 1);
  CHECK(p.put_back == 1301);
}
