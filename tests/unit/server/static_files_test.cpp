// http.static building blocks: the path sanitiser, the Range parser, the MIME table, HTTP dates,
// ETag matching and the ETag cache, and StaticFiles' verdicts on a real directory.

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "server/http/byte_range.hpp"
#include "server/http/etag_cache.hpp"
#include "server/http/http_date.hpp"
#include "server/http/mime_types.hpp"
#include "server/http/static_files.hpp"
#include "server/http/static_path.hpp"
#include "server/http/static_responder.hpp"

using namespace pivot::http;

namespace {

StaticPath path_of(std::string_view target, bool* ok = nullptr) {
  StaticPath p;
  const bool r = parse_static_path(target, p);
  if (ok != nullptr) *ok = r;
  return p;
}

}  // namespace

TEST_CASE("static path: decoding, query, dot segments, extension", "[http][static]") {
  bool ok = false;
  auto p = path_of("/css/app.CSS?v=2#x", &ok);
  CHECK(ok);
  CHECK_FALSE(p.unsafe);
  CHECK(p.relative == "css/app.CSS");
  CHECK(p.extension == ".css");
  p = path_of("//a/./b%20c.txt");
  CHECK(p.relative == "a/b c.txt");
  CHECK(p.extension == ".txt");
  p = path_of("/a.tar.gz");
  CHECK(p.extension == ".gz");
  p = path_of("/.htaccess");
  CHECK(p.extension == ".htaccess");
  p = path_of("/README");
  CHECK(p.extension.empty());
  CHECK(p.relative == "README");
  p = path_of("/dir.d/file");
  CHECK(p.extension.empty());  // the extension comes from the last segment only
  p = path_of("/a+b.txt");
  CHECK(p.relative == "a+b.txt");  // '+' is not a space in a path

  // Not file paths at all: the static server ignores them.
  path_of("/", &ok);
  CHECK_FALSE(ok);
  path_of("/css/", &ok);
  CHECK_FALSE(ok);
  path_of("*", &ok);
  CHECK_FALSE(ok);
  path_of("http://example.com/a.txt", &ok);
  CHECK_FALSE(ok);
  path_of("/./", &ok);
  CHECK_FALSE(ok);
}

TEST_CASE("static path: every traversal trick is unsafe", "[http][static]") {
  for (const char* t : {"/../secret.txt", "/a/../../secret.txt", "/%2e%2e/secret.txt", "/%2E%2e/secret.txt", "/..%2fsecret.txt",
                        "/..%2Fsecret.txt", "/..%5csecret.txt", "/..\\secret.txt", "/a%00.txt", "/secret.txt%00.png", "/a%0a.txt",
                        "/a%zz.txt", "/a%2.txt", "/a.txt%", "/%2e%2e%2f%2e%2e%2fetc%2fpasswd.txt", "/a%2fb.txt", "/.."}) {
    INFO(t);
    bool ok = false;
    const auto p = path_of(t, &ok);
    CHECK(ok);
    CHECK(p.unsafe);
    CHECK(p.relative.empty());
  }
  // The extension is still known, so forbid/allow decide before the path is refused.
  CHECK(path_of("/..%2fsecret.txt").extension == ".txt");
  CHECK(path_of("/../worker.php").extension == ".php");
  // Harmless look-alikes stay safe.
  CHECK_FALSE(path_of("/a..b.txt").unsafe);
  CHECK_FALSE(path_of("/...txt").unsafe);
  CHECK_FALSE(path_of("/%2e/a.txt").unsafe);
}

TEST_CASE("byte ranges: a-b, a-, -n, clipping, unsatisfiable, ignored", "[http][static]") {
  ByteRange r;
  REQUIRE(parse_byte_range("bytes=0-99", 1000, r) == RangeRequest::single);
  CHECK(r.first == 0);
  CHECK(r.last == 99);
  CHECK(r.length() == 100);
  REQUIRE(parse_byte_range("bytes=990-", 1000, r) == RangeRequest::single);
  CHECK((r.first == 990 && r.last == 999));
  REQUIRE(parse_byte_range("bytes=-10", 1000, r) == RangeRequest::single);
  CHECK((r.first == 990 && r.last == 999));
  REQUIRE(parse_byte_range("bytes=-5000", 1000, r) == RangeRequest::single);
  CHECK((r.first == 0 && r.last == 999));
  REQUIRE(parse_byte_range("bytes=500-5000", 1000, r) == RangeRequest::single);
  CHECK((r.first == 500 && r.last == 999));
  REQUIRE(parse_byte_range(" Bytes = 5 - 5 ", 1000, r) == RangeRequest::single);
  CHECK((r.first == 5 && r.last == 5));
  REQUIRE(parse_byte_range("bytes=999-999", 1000, r) == RangeRequest::single);

  CHECK(parse_byte_range("bytes=1000-", 1000, r) == RangeRequest::unsatisfiable);
  CHECK(parse_byte_range("bytes=1000-2000", 1000, r) == RangeRequest::unsatisfiable);
  CHECK(parse_byte_range("bytes=-0", 1000, r) == RangeRequest::unsatisfiable);
  CHECK(parse_byte_range("bytes=0-", 0, r) == RangeRequest::unsatisfiable);
  CHECK(parse_byte_range("bytes=-1", 0, r) == RangeRequest::unsatisfiable);

  // Sent whole: several ranges, other units, garbage, a reversed range, overflow.
  CHECK(parse_byte_range("bytes=0-1,5-6", 1000, r) == RangeRequest::full);
  CHECK(parse_byte_range("items=0-1", 1000, r) == RangeRequest::full);
  CHECK(parse_byte_range("bytes=abc", 1000, r) == RangeRequest::full);
  CHECK(parse_byte_range("bytes=5-1", 1000, r) == RangeRequest::full);
  CHECK(parse_byte_range("bytes=-", 1000, r) == RangeRequest::full);
  CHECK(parse_byte_range("bytes=+1-2", 1000, r) == RangeRequest::full);
  CHECK(parse_byte_range("bytes=99999999999999999999-", 1000, r) == RangeRequest::full);
  CHECK(parse_byte_range("", 1000, r) == RangeRequest::full);
}

TEST_CASE("MIME table: common types, charset on text, case-insensitive, default", "[http][static]") {
  CHECK(mime_type_for(".html") == "text/html; charset=utf-8");
  CHECK(mime_type_for(".CSS") == "text/css; charset=utf-8");
  CHECK(mime_type_for(".js") == "text/javascript; charset=utf-8");
  CHECK(mime_type_for(".json") == "application/json");
  CHECK(mime_type_for(".png") == "image/png");
  CHECK(mime_type_for(".svg") == "image/svg+xml");
  CHECK(mime_type_for(".woff2") == "font/woff2");
  CHECK(mime_type_for(".wasm") == "application/wasm");
  CHECK(mime_type_for(".txt") == "text/plain; charset=utf-8");
  CHECK(mime_type_for(".zip") == "application/zip");
  CHECK(mime_type_for(".nope") == "application/octet-stream");
  CHECK(mime_type_for("") == "application/octet-stream");
  CHECK(mime_type_for(".averyveryverylongextension") == "application/octet-stream");
}

TEST_CASE("HTTP dates: format and the three parse forms", "[http][static]") {
  std::string s;
  append_http_date(s, 784111777);
  CHECK(s == "Sun, 06 Nov 1994 08:49:37 GMT");
  std::time_t t = 0;
  CHECK(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT", t));
  CHECK(t == 784111777);
  CHECK(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT", t));
  CHECK(t == 784111777);
  CHECK(parse_http_date("Sun Nov  6 08:49:37 1994", t));
  CHECK(t == 784111777);
  CHECK_FALSE(parse_http_date("yesterday", t));
  CHECK_FALSE(parse_http_date("", t));
  CHECK_FALSE(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT trailing", t));
}

TEST_CASE("If-None-Match: weak comparison, lists, star", "[http][static]") {
  CHECK(etag_matches("\"10-123\"", "\"10-123\""));
  CHECK(etag_matches("W/\"10-123\"", "\"10-123\""));
  CHECK(etag_matches("\"10-123\"", "W/\"10-123\""));
  CHECK(etag_matches("\"a\", \"10-123\"", "\"10-123\""));
  CHECK(etag_matches("*", "\"x\""));
  CHECK(etag_matches("\"a,b\", \"x\"", "\"x\""));
  CHECK_FALSE(etag_matches("\"a,b\"", "\"a\""));
  CHECK_FALSE(etag_matches("\"10-124\"", "\"10-123\""));
  CHECK_FALSE(etag_matches("10-123", "\"10-123\""));
  CHECK_FALSE(etag_matches("\"x\"", ""));
}

TEST_CASE("ETag cache: valid for one file version, bounded", "[http][static]") {
  EtagCache c(2);
  const FileVersion v1{1, 2, 3, 4};
  FileVersion v2 = v1;
  v2.mtime_ns = 5;
  CHECK_FALSE(c.find("a", v1));
  c.store("a", v1, 42);
  CHECK(c.find("a", v1) == 42U);
  CHECK_FALSE(c.find("a", v2));
  c.store("b", v1, 7);
  c.store("c", v1, 8);  // over capacity: starts over
  CHECK_FALSE(c.find("a", v1));
  CHECK(c.find("c", v1) == 8U);
}

TEST_CASE("StaticFiles: verdicts on a real directory", "[http][static]") {
  char tmpl[] = "/tmp/pivot-static-unit-XXXXXX";
  const std::string base = ::mkdtemp(tmpl);
  const std::string root = base + "/public";
  std::filesystem::create_directories(root + "/sub.d");
  std::ofstream(root + "/a.txt") << "hello";
  std::ofstream(root + "/x.php") << "<?php";
  std::ofstream(base + "/secret.txt") << "secret";
  std::filesystem::create_symlink(base + "/secret.txt", root + "/out.txt");
  std::filesystem::create_symlink(root + "/a.txt", root + "/in.txt");

  pivot::config::StaticConfig cfg;
  cfg.enabled = true;
  cfg.dir = root;
  cfg.request = {{"X-Default", "d"}, {"Range", "bytes=0-0"}};
  StaticFiles files(cfg);
  auto verdict = [&](const std::string& method, const std::string& target) {
    HttpRequest req;
    req.method = method;
    req.target = target;
    StaticPath p;
    StaticFile f;
    std::string_view reason;
    return files.open(req, p, f, reason);
  };
  using V = StaticFiles::Verdict;
  CHECK(verdict("GET", "/a.txt") == V::serve);
  CHECK(verdict("HEAD", "/a.txt") == V::serve);
  CHECK(verdict("POST", "/a.txt") == V::fall_through);
  CHECK(verdict("GET", "/x.php") == V::fall_through);       // forbidden by default
  CHECK(verdict("GET", "/missing.txt") == V::fall_through);
  CHECK(verdict("GET", "/sub.d") == V::fall_through);       // a directory
  CHECK(verdict("GET", "/in.txt") == V::serve);             // a symlink that stays inside
  CHECK(verdict("GET", "/out.txt") == V::reject);           // a symlink out of dir
  CHECK(verdict("GET", "/../secret.txt") == V::reject);
  CHECK(verdict("GET", "/..%2fsecret.txt") == V::reject);
  CHECK(verdict("GET", "/../x.php") == V::fall_through);    // forbidden extension decides first

  HttpRequest req;
  req.headers.push_back({"Range", "bytes=1-2"});
  CHECK(files.request_header(req, "range") == "bytes=1-2");  // the client's value wins
  CHECK(files.request_header(req, "X-Default") == "d");
  CHECK(files.request_header(req, "X-None").empty());

  cfg.allow = {".css"};
  StaticFiles only_css(cfg);
  HttpRequest r2;
  r2.method = "GET";
  r2.target = "/a.txt";
  StaticPath p;
  StaticFile f;
  std::string_view reason;
  CHECK(only_css.open(r2, p, f, reason) == V::fall_through);

  cfg.dir = base + "/nope";
  CHECK_THROWS_WITH(StaticFiles(cfg), Catch::Matchers::Contains("http.static.dir"));
  std::filesystem::remove_all(base);
}
