// Regression tests for what the fuzzers of tests/fuzz found: every input saved under
// tests/fuzz/regressions/<target>/ is replayed here in the normal (GCC) build too.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "server/config/config_error.hpp"
#include "server/config/loader.hpp"

using Catch::Matchers::Contains;

namespace {

std::vector<std::filesystem::path> regressions(const std::string& target) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(std::string(PIVOT_SOURCE_DIR) + "/tests/fuzz/regressions/" + target)) {
    out.push_back(e.path());
  }
  return out;
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

pivot::config::Config parse(const std::string& yaml) {
  return pivot::config::parse_config(yaml, "fuzz.yaml", {}, [](const std::string&) { return std::optional<std::string>(); });
}

}  // namespace

TEST_CASE("config inputs found by fuzz_config load or fail with ConfigError only", "[config][fuzz]") {
  const auto files = regressions("config");
  REQUIRE(files.size() >= 2);
  for (const auto& f : files) {
    INFO(f.filename().string());
    try {
      (void)parse(slurp(f));
    } catch (const pivot::config::ConfigError&) {
      // the documented outcome for a bad value
    }
  }
}

TEST_CASE("durations too large for milliseconds are refused with the key path", "[config][fuzz]") {
  const std::string base = "version: \"3\"\nserver:\n  command: php w.php\nhttp:\n  address: :8080\n  pool:\n    allocate_timeout: ";
  // fuzz_config: 1e23 ms cast to int64 (UB); std::stoll threw std::out_of_range.
  CHECK_THROWS_WITH(parse(base + "99999999999999999999s\n"), Contains("http.pool.allocate_timeout"));
  CHECK_THROWS_WITH(parse(base + "99999999999999999999\n"), Contains("http.pool.allocate_timeout"));
  CHECK_THROWS_WITH(parse(base + "9223372036854776\n"), Contains("http.pool.allocate_timeout"));
  CHECK(parse(base + "9223372036854775\n").http.pool.allocate_timeout == std::chrono::seconds(9223372036854775));
}
