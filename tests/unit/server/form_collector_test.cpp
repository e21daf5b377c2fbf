#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "server/http/form_collector.hpp"

using namespace pivot;
using Decision = http::RequestParser::BodySink::Decision;

namespace {

/// A fresh directory removed at the end of the test.
struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/pivot-forms-unit-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::size_t files() const {
    return static_cast<std::size_t>(std::distance(std::filesystem::directory_iterator(path), std::filesystem::directory_iterator{}));
  }
};

http::HttpRequest post(const std::string& content_type) {
  http::HttpRequest req;
  req.method = "POST";
  req.target = "/";
  req.headers.push_back({"Content-Type", content_type});
  return req;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string part(const std::string& disposition, const std::string& data, const std::string& type = "") {
  return "--XyZ\r\nContent-Disposition: form-data; " + disposition + "\r\n" + (type.empty() ? "" : "Content-Type: " + type + "\r\n") +
         "\r\n" + data + "\r\n";
}

}  // namespace

TEST_CASE("urlencoded bodies are buffered and parsed at the end", "[http][forms]") {
  config::HttpConfig cfg;
  http::FormCollector c(cfg, nullptr);
  http::HttpRequest req = post("application/x-www-form-urlencoded; charset=UTF-8");
  REQUIRE(c.on_headers(req) == Decision::buffer);
  CHECK(c.kind() == http::FormCollector::Kind::urlencoded);
  req.body = "a[b]=1&a[c][]=2&a[c][]=3";
  REQUIRE(c.finish(req));
  CHECK(nlohmann::json::parse(c.body_json()) == nlohmann::json::parse(R"({"a":{"b":"1","c":["2","3"]}})"));
  CHECK(c.uploads_json().empty());

  c.reset();
  req.body = "a=1&a[b]=2";
  REQUIRE(c.on_headers(req) == Decision::buffer);
  CHECK_FALSE(c.finish(req));
  CHECK(c.error_status() == 500);
  CHECK(c.error_reason() == "invalid multiple values to key 'a' in tree");

  c.reset();
  req.body = "";
  REQUIRE(c.on_headers(req) == Decision::buffer);
  REQUIRE(c.finish(req));
  CHECK(c.body_json().empty());  // an empty tree is an empty body
}

TEST_CASE("non-form requests, HEAD/OPTIONS and raw_body are left alone", "[http][forms]") {
  config::HttpConfig cfg;
  http::FormCollector c(cfg, nullptr);
  http::HttpRequest json = post("application/json");
  CHECK(c.on_headers(json) == Decision::buffer);
  CHECK(c.kind() == http::FormCollector::Kind::none);
  http::HttpRequest head = post("multipart/form-data; boundary=x");
  head.method = "HEAD";
  CHECK(c.on_headers(head) == Decision::buffer);
  CHECK(c.kind() == http::FormCollector::Kind::none);
  cfg.raw_body = true;
  http::HttpRequest form = post("multipart/form-data; boundary=x");
  CHECK(c.on_headers(form) == Decision::buffer);
  CHECK(c.kind() == http::FormCollector::Kind::none);
}

TEST_CASE("multipart without a boundary is rejected with 400", "[http][forms]") {
  config::HttpConfig cfg;
  http::FormCollector c(cfg, nullptr);
  CHECK(c.on_headers(post("multipart/form-data")) == Decision::reject);
  CHECK(c.error_status() == 400);
}

TEST_CASE("multipart files stream to 0600 temp files with PHP's error codes, and are deleted by reset", "[http][forms]") {
  TempDir dir;
  config::HttpConfig cfg;
  cfg.uploads.dir = dir.path;
  cfg.uploads.max_file_size = 100;
  http::FormCollector c(cfg, nullptr);
  http::HttpRequest req = post("multipart/form-data; boundary=XyZ");
  REQUIRE(c.on_headers(req) == Decision::stream);
  const std::string good(60, 'g');
  const std::string body = part("name=\"user[name]\"", "bob") + part("name=\"docs[]\"; filename=\"a.TXT\"", good, "text/plain") +
                           part("name=\"docs[]\"; filename=\"b.PHP\"", "<?php") +
                           part("name=\"big\"; filename=\"big.bin\"", std::string(101, 'b')) +
                           part("name=\"none\"; filename=\"\"", "") + part("name=\"one\"; filename=\"first.txt\"", "1") +
                           part("name=\"one\"; filename=\"second.txt\"", "2") + "--XyZ--\r\n";
  // Any split of the body works.
  for (std::size_t i = 0; i < body.size(); i += 5) REQUIRE(c.on_body(std::string_view(body).substr(i, 5)));
  REQUIRE(c.finish(req));
  CHECK(nlohmann::json::parse(c.body_json()) == nlohmann::json::parse(R"({"user":{"name":"bob"}})"));
  const auto up = nlohmann::json::parse(c.uploads_json());
  INFO(c.uploads_json());
  REQUIRE(up["docs"].size() == 2);
  const auto& a = up["docs"][0];
  CHECK(a["name"] == "a.TXT");
  CHECK(a["mime"] == "text/plain");
  CHECK(a["error"] == 0);
  CHECK(a["size"] == 60);
  const std::string tmp = a["tmpName"];
  CHECK(tmp.rfind(dir.path + "/upload", 0) == 0);
  CHECK(read_file(tmp) == good);
  struct stat st {};
  REQUIRE(::stat(tmp.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(up["docs"][1]["error"] == 8);  // .php is forbidden (compared lower-cased)
  CHECK(up["docs"][1]["tmpName"] == "");
  CHECK(up["big"]["error"] == 1);      // over max_file_size: UPLOAD_ERR_INI_SIZE, nothing kept
  CHECK(up["big"]["size"] == 0);
  CHECK(up["none"]["error"] == 4);     // an empty file input
  CHECK(up["one"]["name"] == "first.txt");  // a plain repeated file key keeps the first
  CHECK(c.temp_files() == 3);
  CHECK(dir.files() == 3);
  c.reset();
  CHECK(dir.files() == 0);
}

TEST_CASE("allow lists, a missing uploads dir and the destructor", "[http][forms]") {
  TempDir dir;
  config::HttpConfig cfg;
  cfg.uploads.dir = dir.path;
  cfg.uploads.allow = {".txt"};
  {
    http::FormCollector c(cfg, nullptr);
    http::HttpRequest req = post("multipart/form-data; boundary=XyZ");
    REQUIRE(c.on_headers(req) == Decision::stream);
    REQUIRE(c.on_body(part("name=\"a\"; filename=\"x.txt\"", "t") + part("name=\"b\"; filename=\"x.bin\"", "b") +
                      part("name=\"c\"; filename=\"noext\"", "n") + "--XyZ--"));
    REQUIRE(c.finish(req));
    const auto up = nlohmann::json::parse(c.uploads_json());
    CHECK(up["a"]["error"] == 0);
    CHECK(up["b"]["error"] == 8);
    CHECK(up["c"]["error"] == 8);
    CHECK(dir.files() == 1);
  }
  CHECK(dir.files() == 0);  // the destructor deleted it (client gone, session over)

  cfg.uploads.dir = dir.path + "/missing";
  http::FormCollector c(cfg, nullptr);
  http::HttpRequest req = post("multipart/form-data; boundary=XyZ");
  REQUIRE(c.on_headers(req) == Decision::stream);
  REQUIRE(c.on_body(part("name=\"a\"; filename=\"x.txt\"", "t") + "--XyZ--"));
  REQUIRE(c.finish(req));
  CHECK(nlohmann::json::parse(c.uploads_json())["a"]["error"] == 6);
}

TEST_CASE("a half-written upload is deleted; an unfinished body is a 400", "[http][forms]") {
  TempDir dir;
  config::HttpConfig cfg;
  cfg.uploads.dir = dir.path;
  http::FormCollector c(cfg, nullptr);
  http::HttpRequest req = post("multipart/form-data; boundary=XyZ");
  REQUIRE(c.on_headers(req) == Decision::stream);
  REQUIRE(c.on_body("--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"f.txt\"\r\n\r\n" + std::string(200000, 'x')));
  CHECK(dir.files() == 1);
  CHECK_FALSE(c.finish(req));
  CHECK(c.error_status() == 400);
  c.reset();
  CHECK(dir.files() == 0);
}

TEST_CASE("form fields in memory are bounded by max_request_size", "[http][forms]") {
  config::HttpConfig cfg;
  cfg.max_request_size = 1000;
  http::FormCollector c(cfg, nullptr);
  http::HttpRequest req = post("multipart/form-data; boundary=XyZ");
  REQUIRE(c.on_headers(req) == Decision::stream);
  std::string body;
  for (int i = 0; i < 20; ++i) body += part("name=\"f" + std::to_string(i) + "\"", "v");
  CHECK_FALSE(c.on_body(body));
  CHECK(c.error_status() == 413);
}

TEST_CASE("a multipart request without a body is an empty form", "[http][forms]") {
  config::HttpConfig cfg;
  http::FormCollector c(cfg, nullptr);
  http::HttpRequest req = post("multipart/form-data; boundary=XyZ");
  REQUIRE(c.on_headers(req) == Decision::stream);
  REQUIRE(c.finish(req));
  CHECK(c.body_json().empty());
  CHECK(c.uploads_json().empty());
}

TEST_CASE("file parts per request are bounded by http.uploads.max_files", "[http][forms]") {
  TempDir dir;
  config::HttpConfig cfg;
  cfg.uploads.dir = dir.path;
  cfg.uploads.max_files = 2;
  http::FormCollector c(cfg, nullptr);
  http::HttpRequest req = post("multipart/form-data; boundary=XyZ");
  REQUIRE(c.on_headers(req) == Decision::stream);
  std::string body;
  for (int i = 0; i < 3; ++i) body += part("name=\"f[]\"; filename=\"f.txt\"", "x");
  CHECK_FALSE(c.on_body(body));
  CHECK(c.error_status() == 413);
  c.reset();
  CHECK(dir.files() == 0);
}
