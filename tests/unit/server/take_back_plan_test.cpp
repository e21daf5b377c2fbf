#include <catch2/catch.hpp>

#include <vector>

#include "server/pool/take_back_plan.hpp"

using pivot::pool::plan_take_back;

namespace {

struct Case {
  const char* what;
  std::size_t current;
  std::vector<std::size_t> queued;
  std::size_t unread;
  bool consistent;
  std::size_t keep;
  std::size_t put_back;
};

}  // namespace

TEST_CASE("take-back: which queued frames leave the pipe and which bytes go back", "[pool][take_back]") {
  const std::vector<Case> cases = {
      {"inside the current request: every queued frame is whole in the pipe", 1000, {300, 500}, 800, true, 0, 0},
      {"a queued frame read whole (PHP's buffer) stays, the rest is taken", 1000, {300, 500}, 500, true, 1, 0},
      {"150 bytes into the first queued frame: it stays, its unread bytes go back", 1000, {300, 500, 200}, 850, true, 1, 150},
      {"100 bytes into the second queued frame", 1000, {300, 500, 200}, 600, true, 2, 400},
      {"the current frame not yet read goes back whole, queued frames are taken", 1000, {300}, 1300, true, 0, 1000},
      {"600 bytes of the current frame read", 1000, {300}, 700, true, 0, 400},
      {"everything read: nothing to take or put back", 1000, {300, 500}, 0, true, 2, 0},
      {"more bytes than were written: unknown contents, all go back", 1000, {300}, 1301, false, 1, 1301},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    const auto p = plan_take_back(c.current, c.queued, c.unread);
    CHECK(p.consistent == c.consistent);
    CHECK(p.keep == c.keep);
    CHECK(p.put_back == c.put_back);
  }
}
