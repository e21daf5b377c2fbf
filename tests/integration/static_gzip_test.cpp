// Static files and gzip (issue #4 parts 4 and 5) against the real binary, real php workers and
// Debian's curl: http.static with ETag / Last-Modified / Range / HEAD, every traversal trick, the
// fall-through cases RoadRunner has, and http.gzip on worker responses and static files.

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "tests/integration/harness.hpp"

using namespace pivot::test;
using Catch::Matchers::Contains;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string text_of(std::size_t n, const std::string& line) {
  std::string s;
  while (s.size() < n) s += line + std::to_string(s.size() % 1000) + "\n";
  s.resize(n);
  return s;
}

/// A document root with every kind of entry the tests need, under a fresh base directory that
/// also holds a secret outside the root.
struct Site {
  std::string base;
  std::string pub;
  std::string data;  // data.txt: 10000 bytes
  std::string css;   // app.css: 20000 bytes of text
  std::string png;   // logo.png: 5000 bytes that do not compress

  Site() {
    char tmpl[] = "/tmp/pivot-static-it-XXXXXX";
    base = ::mkdtemp(tmpl);
    pub = base + "/public";
    std::filesystem::create_directories(pub + "/sub.d");
    write("hello.txt", "hello static\n");
    data = text_of(10000, "0123456789 range data ");
    write("data.txt", data);
    css = text_of(20000, "body { color: #333; margin: 0 auto; } .rule-");
    write("app.css", css);
    png.resize(5000);
    std::uint32_t x = 7;
    for (auto& c : png) {
      x = x * 1103515245 + 12345;
      c = static_cast<char>(x >> 24);
    }
    write("logo.png", png);
    write("large.txt", text_of(3 * 1024 * 1024, "a big static file line "));
    write("worker.php", "<?php echo 'PHP SOURCE';");
    write("sub.d/inner.txt", "inner\n");
    std::ofstream(base + "/secret.txt") << "TOPSECRET\n";
    std::filesystem::create_symlink("/etc/passwd", pub + "/passwd.txt");
    std::filesystem::create_symlink(base, pub + "/escape.d");
    std::filesystem::create_symlink(pub + "/hello.txt", pub + "/alias.txt");
  }
  ~Site() { std::filesystem::remove_all(base); }
  void write(const std::string& rel, const std::string& bytes) const { std::ofstream(pub + "/" + rel, std::ios::binary) << bytes; }

  /// A config serving `pub` through gzip_app.php, with `extra` lines under http:.
  std::string yaml(const std::string& extra = "", bool gzip = true) const {
    return "version: \"3\"\n"
           "server:\n"
           "  command: \"php {{WORKERS}}/gzip_app.php\"\n"
           "http:\n"
           "  address: 127.0.0.1:{{PORT}}\n"
           "  access_logs: true\n" +
           std::string(gzip ? "  middleware: [\"static\", \"gzip\"]\n" : "  middleware: [\"static\"]\n") +
           "  static:\n"
           "    dir: " + pub + "\n"
           "    calculate_etag: true\n"
           "    response:\n"
           "      Cache-Control: \"public, max-age=60\"\n" +
           extra +
           "  pool:\n"
           "    num_workers: 1\n"
           "logs:\n"
           "  level: debug\n";
  }
};

/// A scratch directory for curl's output files.
struct OutDir {
  std::string path;
  OutDir() {
    char tmpl[] = "/tmp/pivot-static-out-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~OutDir() { std::filesystem::remove_all(path); }
};

std::string url(const ServerProcess& s, const std::string& path) { return "http://127.0.0.1:" + std::to_string(s.port()) + path; }

/// GET over a raw connection with extra header lines.
Response get(const ServerProcess& s, const std::string& target, const std::vector<std::string>& headers = {}) {
  return request(s.port(), "GET", target, "", headers);
}

/// True when PHP answered (gzip_app.php's JSON for unknown paths).
bool from_php(const Response& r) {
  if (r.header("content-type") != "application/json") return false;
  return nlohmann::json::parse(r.body).value("php", false);
}

/// curl `args` saving headers and body into `dir`; returns {headers, body}.
std::pair<std::string, std::string> curl(const std::string& dir, const std::string& args) {
  int st = 0;
  const std::string out = run_command("curl -sS --max-time 30 -D " + dir + "/h -o " + dir + "/b " + args + " 2>&1", &st);
  INFO("curl " << args << "\n" << out);
  REQUIRE(st == 0);
  return {slurp(dir + "/h"), slurp(dir + "/b")};
}

}  // namespace

TEST_CASE("a static file: type, length, Last-Modified, ETag, response headers; no PHP; access-logged", "[integration][static]") {
  Site site;
  ServerProcess s(site.yaml());
  const Response r = get(s, "/hello.txt?v=3");
  REQUIRE(r.status == 200);
  CHECK(r.body == "hello static\n");
  CHECK(r.header("content-type") == "text/plain; charset=utf-8");
  CHECK(r.header("content-length") == "13");
  CHECK(r.header("accept-ranges") == "bytes");
  CHECK(r.header("cache-control") == "public, max-age=60");  // http.static.response
  CHECK(r.header("x-request-id").size() == 32);
  CHECK(std::regex_match(r.header("etag"), std::regex(R"("13-[0-9]+")")));
  CHECK(std::regex_match(r.header("last-modified"), std::regex(R"([A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT)")));
  CHECK(r.header("vary").empty());  // 13 bytes: below gzip's min_length, never compressed
  CHECK(get(s, "/hello.txt").header("etag") == r.header("etag"));  // stable (and cached)
  CHECK(get(s, "/alias.txt").body == "hello static\n");  // a symlink that stays inside dir

  int st = 0;
  const std::string w = run_command("curl -sS -o /dev/null -w '%{http_code} %{content_type} %{size_download}' " + url(s, "/app.css"), &st);
  CHECK(st == 0);
  CHECK(w == "200 text/css; charset=utf-8 20000");
  CHECK(get(s, "/logo.png").header("content-type") == "image/png");

  // Served by the server itself: pid=0 in the access log, the query string not logged.
  REQUIRE(s.wait_log("path=\"/hello.txt\" status=200 bytes_sent=13", std::chrono::seconds(3)));
  CHECK(std::regex_search(s.log(), std::regex(R"(event=access .*path="/hello.txt" status=200 bytes_sent=13 duration_ms=[0-9.]+ request_id="[0-9a-f]{32}" pid=0)")));
}

TEST_CASE("304 via If-None-Match and via If-Modified-Since; a changed file gets a new ETag", "[integration][static]") {
  Site site;
  ServerProcess s(site.yaml());
  const Response first = get(s, "/hello.txt");
  const std::string etag = first.header("etag");
  const std::string lm = first.header("last-modified");
  REQUIRE(!etag.empty());

  const Response nm = get(s, "/hello.txt", {"If-None-Match: " + etag});
  CHECK(nm.status == 304);
  CHECK(nm.body.empty());
  CHECK(nm.header("etag") == etag);
  CHECK(nm.header("content-length").empty());
  CHECK(nm.header("cache-control") == "public, max-age=60");
  CHECK(get(s, "/hello.txt", {"If-None-Match: \"x\", W/" + etag}).status == 304);  // weak comparison, lists
  CHECK(get(s, "/hello.txt", {"If-None-Match: *"}).status == 304);
  CHECK(get(s, "/hello.txt", {"If-None-Match: \"13-1\""}).status == 200);

  CHECK(get(s, "/hello.txt", {"If-Modified-Since: " + lm}).status == 304);
  CHECK(get(s, "/hello.txt", {"If-Modified-Since: Thu, 01 Jan 1970 00:00:01 GMT"}).status == 200);
  // If-None-Match wins over If-Modified-Since.
  CHECK(get(s, "/hello.txt", {"If-None-Match: \"13-1\"", "If-Modified-Since: " + lm}).status == 200);

  // Debian's curl, as a browser would revalidate.
  int st = 0;
  CHECK(run_command("curl -sS -o /dev/null -w '%{http_code}' -H 'If-None-Match: " + etag + "' " + url(s, "/hello.txt"), &st) == "304");
  CHECK(run_command("curl -sS -o /dev/null -w '%{http_code}' -z '" + lm + "' " + url(s, "/hello.txt"), &st) == "304");

  // New content (same name): a new ETag, and the old one no longer matches.
  site.write("hello.txt", "hello again, static\n");
  const Response changed = get(s, "/hello.txt", {"If-None-Match: " + etag});
  CHECK(changed.status == 200);
  CHECK(changed.body == "hello again, static\n");
  CHECK(changed.header("etag") != etag);
  REQUIRE(s.wait_log("path=\"/hello.txt\" status=304", std::chrono::seconds(3)));
}

TEST_CASE("Range: 206 with Content-Range, suffix and open ranges, 416, several ranges, If-Range", "[integration][static]") {
  Site site;
  ServerProcess s(site.yaml());
  Response r = get(s, "/data.txt", {"Range: bytes=100-199"});
  REQUIRE(r.status == 206);
  CHECK(r.header("content-range") == "bytes 100-199/10000");
  CHECK(r.header("content-length") == "100");
  CHECK(r.body == site.data.substr(100, 100));
  CHECK(r.header("content-encoding").empty());

  r = get(s, "/data.txt", {"Range: bytes=9990-"});
  CHECK(r.status == 206);
  CHECK(r.header("content-range") == "bytes 9990-9999/10000");
  CHECK(r.body == site.data.substr(9990));
  r = get(s, "/data.txt", {"Range: bytes=-5"});
  CHECK(r.status == 206);
  CHECK(r.body == site.data.substr(9995));
  r = get(s, "/data.txt", {"Range: bytes=9000-20000"});  // clipped at the end
  CHECK(r.header("content-range") == "bytes 9000-9999/10000");
  CHECK(r.body.size() == 1000);

  r = get(s, "/data.txt", {"Range: bytes=10000-"});
  CHECK(r.status == 416);
  CHECK(r.header("content-range") == "bytes */10000");
  REQUIRE(s.wait_log("path=\"/data.txt\" status=416", std::chrono::seconds(3)));

  r = get(s, "/data.txt", {"Range: bytes=0-1,5-6"});  // several ranges: the whole file
  CHECK(r.status == 200);
  CHECK(r.body == site.data);
  const std::string etag = r.header("etag");
  CHECK(get(s, "/data.txt", {"Range: bytes=0-9", "If-Range: " + etag}).status == 206);
  r = get(s, "/data.txt", {"Range: bytes=0-9", "If-Range: \"stale\""});
  CHECK(r.status == 200);
  CHECK(r.body.size() == 10000);

  OutDir out;
  const auto [h, b] = curl(out.path, "-r 1000-2999 " + url(s, "/data.txt"));
  CHECK_THAT(h, Contains("HTTP/1.1 206 Partial Content"));
  CHECK(b == site.data.substr(1000, 2000));
  REQUIRE(s.wait_log("path=\"/data.txt\" status=206 bytes_sent=2000", std::chrono::seconds(3)));
}

TEST_CASE("HEAD: the GET headers without a body; the connection stays in sync", "[integration][static]") {
  Site site;
  ServerProcess s(site.yaml());
  Connection c(s.port());
  c.send("HEAD /data.txt HTTP/1.1\r\nHost: x\r\n\r\n");
  const Response h = c.read_response(true);
  REQUIRE(h.status == 200);
  CHECK(h.header("content-length") == "10000");
  CHECK(h.header("content-type") == "text/plain; charset=utf-8");
  CHECK(!h.header("etag").empty());
  // Were body bytes sent after the HEAD answer, this GET would read them as its status line.
  c.send("GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n");
  const Response g = c.read_response();
  CHECK(g.status == 200);
  CHECK(g.body == "hello static\n");
  REQUIRE(s.wait_log("method=\"HEAD\" path=\"/data.txt\" status=200 bytes_sent=0", std::chrono::seconds(3)));
}

TEST_CASE("no way out of dir: .., %2e%2e, encoded slashes, NUL, symlinks out: 404, PHP never asked", "[integration][static]") {
  Site site;
  ServerProcess s(site.yaml());
  for (const std::string target : {"/../secret.txt", "/sub.d/../../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E/secret.txt",
                                   "/..%2fsecret.txt", "/..%2Fsecret.txt", "/%2e%2e%2fsecret.txt", "/..%5csecret.txt",
                                   "/..\\secret.txt", "/hello.txt%00.png", "/secret%00.txt", "/passwd.txt", "/escape.d/secret.txt",
                                   "/%2e%2e/%2e%2e/%2e%2e/etc/passwd.txt"}) {
    INFO(target);
    Connection c(s.port());
    c.send("GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n");
    const Response r = c.read_response();
    CHECK(r.status == 404);
    CHECK(r.body == "Not Found\n");
    CHECK(r.body.find("TOPSECRET") == std::string::npos);
    CHECK(r.body.find("root:") == std::string::npos);
  }
  CHECK(s.log().find("\"php\"") == std::string::npos);
  CHECK(s.wait_log("event=static_path_rejected", std::chrono::seconds(3), 14));
  CHECK_THAT(s.log(), Contains("reason=\"resolves outside http.static.dir (symlink)\""));

  // curl normalises /../ unless told not to.
  int st = 0;
  const std::string out = run_command("curl -sS --path-as-is -w ' %{http_code}' " + url(s, "/../secret.txt"), &st);
  CHECK(out == "Not Found\n 404");
  // Legitimate look-alikes are still served.
  site.write("a..b.txt", "dots\n");
  CHECK(get(s, "/a..b.txt").body == "dots\n");
}

TEST_CASE("forbidden extensions, directories, missing files, no extension and POST fall through to PHP", "[integration][static]") {
  Site site;
  ServerProcess s(site.yaml());
  for (const std::string target : {"/worker.php", "/sub.d", "/sub.d/", "/missing.txt", "/README", "/", "/../worker.php"}) {
    INFO(target);
    const Response r = get(s, target);
    CHECK(r.status == 200);
    CHECK(from_php(r));
    CHECK(r.body.find("PHP SOURCE") == std::string::npos);
  }
  const Response post = request(s.port(), "POST", "/hello.txt", "x=1", {"Content-Type: text/plain"});
  CHECK(from_php(post));
  CHECK(get(s, "/sub.d/inner.txt").body == "inner\n");

  // allow: only the listed extensions are static.
  ServerProcess only(site.yaml("    allow: [\".css\"]\n"));
  CHECK(from_php(get(only, "/hello.txt")));
  CHECK(get(only, "/app.css").body == site.css);
}

TEST_CASE("gzip round trip with curl --compressed: PHP and static bodies identical", "[integration][gzip]") {
  Site site;
  ServerProcess s(site.yaml());
  OutDir out;
  {
    const auto [h, b] = curl(out.path, "--compressed " + url(s, "/text?bytes=50000"));
    CHECK_THAT(h, Contains("Content-Encoding: gzip"));
    CHECK_THAT(h, Contains("Vary: Accept-Encoding"));
    const auto [h2, plain] = curl(out.path, url(s, "/text?bytes=50000"));
    CHECK_THAT(h2, !Contains("Content-Encoding"));
    CHECK(plain.size() == 50000);
    CHECK(b == plain);
  }
  {
    const auto [h, b] = curl(out.path, "--compressed " + url(s, "/app.css"));
    CHECK_THAT(h, Contains("Content-Encoding: gzip"));
    CHECK_THAT(h, Contains("Vary: Accept-Encoding"));
    CHECK(std::regex_search(h, std::regex("ETag: W/\"20000-[0-9]+\"")));  // weak once compressed
    CHECK(b == site.css);
  }
  // Content-Length is the compressed size; the body is a gzip stream.
  const Response raw = get(s, "/app.css", {"Accept-Encoding: gzip"});
  REQUIRE(raw.status == 200);
  CHECK(raw.header("content-encoding") == "gzip");
  CHECK(std::stoul(raw.header("content-length")) == raw.body.size());
  CHECK(raw.body.size() < site.css.size() / 4);
  CHECK(raw.body.substr(0, 2) == "\x1f\x8b");
  // The weak tag revalidates.
  CHECK(get(s, "/app.css", {"Accept-Encoding: gzip", "If-None-Match: " + raw.header("etag")}).status == 304);
  REQUIRE(s.wait_log("path=\"/app.css\" status=200 bytes_sent=" + std::to_string(raw.body.size()), std::chrono::seconds(3)));

  // A static file over static_max_size is streamed as it is, byte for byte.
  const auto [h, b] = curl(out.path, "--compressed " + url(s, "/large.txt"));
  CHECK_THAT(h, !Contains("Content-Encoding"));
  CHECK(b == slurp(site.pub + "/large.txt"));
}

TEST_CASE("gzip is skipped without Accept-Encoding, for q=0, small bodies, images, encoded bodies, HEAD, 204", "[integration][gzip]") {
  Site site;
  ServerProcess s(site.yaml());
  Response r = get(s, "/text?bytes=5000");
  CHECK(r.header("content-encoding").empty());
  CHECK(r.header("vary") == "Accept-Encoding");  // eligible, so caches must know
  CHECK(r.body.size() == 5000);
  r = get(s, "/text?bytes=5000", {"Accept-Encoding: gzip;q=0, br"});
  CHECK(r.header("content-encoding").empty());
  CHECK(r.body.size() == 5000);
  r = get(s, "/text?bytes=5000&vary=Cookie", {"Accept-Encoding: gzip"});
  CHECK(r.header("content-encoding") == "gzip");
  CHECK(r.header("vary") == "Cookie, Accept-Encoding");

  r = get(s, "/text?bytes=1000", {"Accept-Encoding: gzip"});  // under min_length
  CHECK(r.header("content-encoding").empty());
  CHECK(r.header("vary").empty());
  CHECK(r.body.size() == 1000);

  r = get(s, "/text?bytes=50000&type=image/png", {"Accept-Encoding: gzip"});
  CHECK(r.header("content-encoding").empty());
  CHECK(r.body.size() == 50000);
  r = get(s, "/logo.png", {"Accept-Encoding: gzip"});
  CHECK(r.header("content-encoding").empty());
  CHECK(r.body == site.png);
  r = get(s, "/text?bytes=50000&type=image/svg%2Bxml", {"Accept-Encoding: gzip"});
  CHECK(r.header("content-encoding") == "gzip");

  r = get(s, "/text?bytes=5000&encoding=br", {"Accept-Encoding: gzip, br"});
  CHECK(r.header("content-encoding") == "br");
  CHECK(r.body.size() == 5000);

  r = request(s.port(), "HEAD", "/text?bytes=5000", "", {"Accept-Encoding: gzip"});
  CHECK(r.header("content-encoding").empty());
  CHECK(r.header("content-length") == "5000");
  r = request(s.port(), "HEAD", "/app.css", "", {"Accept-Encoding: gzip"});
  CHECK(r.header("content-encoding").empty());
  CHECK(r.header("content-length") == "20000");
  CHECK(r.header("vary") == "Accept-Encoding");

  r = get(s, "/text?bytes=5000&status=204", {"Accept-Encoding: gzip"});
  CHECK(r.status == 204);
  CHECK(r.header("content-encoding").empty());
  r = get(s, "/data.txt", {"Accept-Encoding: gzip", "Range: bytes=0-99"});
  CHECK(r.status == 206);
  CHECK(r.header("content-encoding").empty());
  CHECK(r.body == site.data.substr(0, 100));

  // A strong ETag from PHP becomes weak when the body is compressed.
  r = get(s, "/text?bytes=5000&etag=v1", {"Accept-Encoding: gzip"});
  CHECK(r.header("etag") == "W/\"v1\"");
}

TEST_CASE("static without gzip: no Vary, no Content-Encoding, PHP responses untouched", "[integration][static][gzip]") {
  Site site;
  ServerProcess s(site.yaml("", false));
  Response r = get(s, "/app.css", {"Accept-Encoding: gzip"});
  CHECK(r.body == site.css);
  CHECK(r.header("content-encoding").empty());
  CHECK(r.header("vary").empty());
  r = get(s, "/text?bytes=5000", {"Accept-Encoding: gzip"});
  CHECK(r.header("content-encoding").empty());
  CHECK(r.header("vary").empty());
}
