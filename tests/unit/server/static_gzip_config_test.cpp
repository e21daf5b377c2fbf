// http.static, http.gzip and http.middleware: defaults, every key, and errors that name the key.

#include <catch2/catch.hpp>

#include "server/config/config_error.hpp"
#include "server/config/loader.hpp"

using namespace pivot::config;
using Catch::Matchers::Contains;

namespace {

Config parse(const std::string& http_extra) {
  const std::string yaml = "version: \"3\"\nserver:\n  command: \"php worker.php\"\nhttp:\n  address: 127.0.0.1:8080\n" + http_extra;
  return parse_config(yaml, "test.yaml", {}, [](const std::string&) { return std::optional<std::string>(); });
}

}  // namespace

TEST_CASE("http.static and http.gzip are off by default", "[config][static][gzip]") {
  const Config c = parse("");
  CHECK_FALSE(c.http.static_files.enabled);
  CHECK_FALSE(c.http.gzip.enabled);
  CHECK(c.warnings.empty());
}

TEST_CASE("http.static: every key, RoadRunner's shapes", "[config][static]") {
  const Config d = parse("  static:\n    dir: public\n");
  CHECK(d.http.static_files.enabled);
  CHECK(d.http.static_files.dir == "public");
  CHECK(d.http.static_files.forbid == std::vector<std::string>{".php", ".htaccess"});
  CHECK(d.http.static_files.allow.empty());
  CHECK_FALSE(d.http.static_files.calculate_etag);
  CHECK_FALSE(d.http.static_files.weak);
  CHECK(d.http.static_files.request.empty());
  CHECK(d.http.static_files.response.empty());

  const Config c = parse(R"(  middleware: ["static", "gzip", "http_metrics"]
  static:
    dir: "."
    forbid: [""]
    allow: [".TXT", ".css"]
    calculate_etag: true
    weak: true
    request:
      input: "custom-header"
    response:
      Cache-Control: "public, max-age=60"
      output: "output-header"
)");
  const auto& s = c.http.static_files;
  CHECK(s.forbid.empty());  // RoadRunner's docs write forbid: [""]
  CHECK(s.allow == std::vector<std::string>{".txt", ".css"});
  CHECK(s.calculate_etag);
  CHECK(s.weak);
  CHECK(s.request == std::vector<std::pair<std::string, std::string>>{{"input", "custom-header"}});
  CHECK(s.response == std::vector<std::pair<std::string, std::string>>{{"Cache-Control", "public, max-age=60"}, {"output", "output-header"}});
  CHECK(c.http.gzip.enabled);  // from the middleware list
  CHECK(c.warnings.empty());

  CHECK_THROWS_WITH(parse("  static:\n    dri: public\n"), Contains("http.static.dri") && Contains("did you mean http.static.dir"));
  CHECK_THROWS_WITH(parse("  static:\n    forbid: [php]\n"), Contains("http.static.forbid[0]") && Contains("with the dot"));
  CHECK_THROWS_WITH(parse("  static:\n    response: {\"Bad Name\": x}\n"), Contains("http.static.response.Bad Name"));
  CHECK_THROWS_WITH(parse("  static:\n    response: [a]\n"), Contains("http.static.response") && Contains("mapping"));
  CHECK_THROWS_WITH(parse("  static:\n    dir: \"\"\n"), Contains("http.static.dir"));
  CHECK_THROWS_WITH(parse("  middleware: [\"static\"]\n"), Contains("http.middleware[0]") && Contains("http.static"));
}

TEST_CASE("http.gzip: section keys, middleware names", "[config][gzip]") {
  const Config d = parse("  gzip: {}\n");
  CHECK(d.http.gzip.enabled);
  CHECK(d.http.gzip.level == 6);
  CHECK(d.http.gzip.min_length == 1024);
  CHECK(d.http.gzip.static_max_size == 1024 * 1024);
  CHECK(d.http.gzip.exclude_types.front() == "image/*");

  const Config c = parse("  gzip:\n    level: 1\n    min_length: 0\n    static_max_size: 10\n    exclude_types: [\"Text/CSV\", \"video/*\"]\n");
  CHECK(c.http.gzip.level == 1);
  CHECK(c.http.gzip.min_length == 0);
  CHECK(c.http.gzip.static_max_size == 10);
  CHECK(c.http.gzip.exclude_types == std::vector<std::string>{"text/csv", "video/*"});

  CHECK_THROWS_WITH(parse("  gzip: {level: 10}\n"), Contains("http.gzip.level") && Contains("1..9"));
  CHECK_THROWS_WITH(parse("  gzip: {exclude_types: [\"png\"]}\n"), Contains("http.gzip.exclude_types[0]") && Contains("type/subtype"));
  CHECK_THROWS_WITH(parse("  middleware: [\"gzipp\"]\n"), Contains("http.middleware[0]") && Contains("gzip, static"));
  const Config w = parse("  middleware: [\"headers\", \"gzip\"]\n");
  REQUIRE(w.warnings.size() == 1);
  CHECK_THAT(w.warnings[0], Contains("http.middleware[0]") && Contains("headers"));
  CHECK(w.http.gzip.enabled);
}
