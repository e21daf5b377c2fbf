#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "protocol/form_error.hpp"
#include "protocol/multipart_parser.hpp"

using namespace pivot::protocol;

namespace {

struct Part {
  MultipartPart info;
  std::string data;
  bool ended = false;
};

/// Records every callback; data of a part is concatenated.
class Recorder final : public MultipartParser::Handler {
 public:
  std::vector<Part> parts;
  std::size_t data_calls = 0;
  std::error_code fail_on_data;

  std::error_code on_part_begin(const MultipartPart& part) override {
    parts.push_back(Part{part, {}, false});
    return {};
  }
  std::error_code on_part_data(std::string_view data) override {
    REQUIRE_FALSE(parts.empty());
    REQUIRE_FALSE(parts.back().ended);
    REQUIRE_FALSE(data.empty());
    ++data_calls;
    parts.back().data.append(data);
    return fail_on_data;
  }
  std::error_code on_part_end() override {
    REQUIRE_FALSE(parts.empty());
    parts.back().ended = true;
    return {};
  }
};

const std::string kBoundary = "----WebKitFormBoundary7MA4YWxkTrZu0gW";

std::string body_with(const std::vector<std::pair<std::string, std::string>>& parts, const std::string& preamble = "",
                      const std::string& epilogue = "") {
  std::string b = preamble;
  for (const auto& [headers, data] : parts) b += "--" + kBoundary + "\r\n" + headers + "\r\n\r\n" + data + "\r\n";
  b += "--" + kBoundary + "--" + epilogue;
  return b;
}

// Data chosen to look like the delimiter as much as possible without being one.
const std::string kTricky = std::string("line\r\nnext\r\n-") + "\r\n--" + kBoundary.substr(0, 10) + "\r\r\n\n--" + "\r\n" +
                            "--" + kBoundary + "X tail\r";

std::string sample() {
  return body_with({{"Content-Disposition: form-data; name=\"user[name]\"", "bob"},
                    {"Content-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\nContent-Type: text/plain", kTricky},
                    {"Content-Disposition: form-data; name=\"empty\"", ""},
                    {"content-disposition: FORM-DATA; name=last; filename=\"../../etc/pass wd\"", std::string(3000, 'z')}},
                   "This is the preamble.\r\n", "\r\nepilogue ignored --" + kBoundary + "\r\n");
}

void check_sample(const Recorder& r) {
  REQUIRE(r.parts.size() == 4);
  CHECK(r.parts[0].info.form_data);
  CHECK(r.parts[0].info.name == "user[name]");
  CHECK_FALSE(r.parts[0].info.has_filename);
  CHECK(r.parts[0].data == "bob");
  CHECK(r.parts[1].info.name == "file");
  CHECK(r.parts[1].info.has_filename);
  CHECK(r.parts[1].info.filename == "a.txt");
  CHECK(r.parts[1].info.content_type == "text/plain");
  CHECK(r.parts[1].data == kTricky);
  CHECK(r.parts[2].info.name == "empty");
  CHECK(r.parts[2].data.empty());
  CHECK(r.parts[3].info.name == "last");
  CHECK(r.parts[3].info.filename == "pass wd");  // base name only, as Go's FileName
  CHECK(r.parts[3].data == std::string(3000, 'z'));
  for (const auto& p : r.parts) CHECK(p.ended);
}

}  // namespace

TEST_CASE("a multipart body in one piece", "[protocol][multipart]") {
  MultipartParser p;
  REQUIRE(p.reset(kBoundary));
  Recorder r;
  REQUIRE_FALSE(p.feed(sample(), r));
  CHECK(p.done());
  check_sample(r);
}

TEST_CASE("a multipart body split in two at every byte position", "[protocol][multipart]") {
  const std::string body = sample();
  for (std::size_t cut = 0; cut <= body.size(); ++cut) {
    INFO("cut at " << cut);
    MultipartParser p;
    REQUIRE(p.reset(kBoundary));
    Recorder r;
    REQUIRE_FALSE(p.feed(std::string_view(body).substr(0, cut), r));
    REQUIRE_FALSE(p.feed(std::string_view(body).substr(cut), r));
    REQUIRE(p.done());
    check_sample(r);
  }
}

TEST_CASE("a multipart body fed one byte at a time, and in three pieces", "[protocol][multipart]") {
  const std::string body = sample();
  {
    MultipartParser p;
    REQUIRE(p.reset(kBoundary));
    Recorder r;
    for (char c : body) REQUIRE_FALSE(p.feed(std::string_view(&c, 1), r));
    REQUIRE(p.done());
    check_sample(r);
  }
  for (std::size_t a = 0; a < body.size(); a += 7) {
    for (std::size_t b = a; b < body.size(); b += 13) {
      MultipartParser p;
      REQUIRE(p.reset(kBoundary));
      Recorder r;
      REQUIRE_FALSE(p.feed(std::string_view(body).substr(0, a), r));
      REQUIRE_FALSE(p.feed(std::string_view(body).substr(a, b - a), r));
      REQUIRE_FALSE(p.feed(std::string_view(body).substr(b), r));
      REQUIRE(p.done());
      check_sample(r);
    }
  }
}

TEST_CASE("part data is handed over in few calls, not byte by byte", "[protocol][multipart]") {
  std::string data(100000, 'a');
  for (std::size_t i = 0; i < data.size(); i += 97) data[i] = '\r';  // many delimiter false starts
  MultipartParser p;
  REQUIRE(p.reset(kBoundary));
  Recorder r;
  REQUIRE_FALSE(p.feed(body_with({{"Content-Disposition: form-data; name=\"f\"; filename=\"x.bin\"", data}}), r));
  REQUIRE(r.parts.size() == 1);
  CHECK(r.parts[0].data == data);
  CHECK(r.data_calls == 1);
}

TEST_CASE("no part, transport padding after the delimiter, bare LF line ends", "[protocol][multipart]") {
  {
    MultipartParser p;
    REQUIRE(p.reset("b"));
    Recorder r;
    REQUIRE_FALSE(p.feed("--b--\r\n", r));
    CHECK(p.done());
    CHECK(r.parts.empty());
  }
  {
    MultipartParser p;
    REQUIRE(p.reset("b"));
    Recorder r;
    REQUIRE_FALSE(p.feed("--b  \t\r\nContent-Disposition: form-data; name=a\n\nv\r\n--b--", r));
    CHECK(p.done());
    REQUIRE(r.parts.size() == 1);
    CHECK(r.parts[0].info.name == "a");
    CHECK(r.parts[0].data == "v");
  }
}

TEST_CASE("an unfinished body is not done; garbage after a delimiter is an error", "[protocol][multipart]") {
  {
    MultipartParser p;
    REQUIRE(p.reset("b"));
    Recorder r;
    REQUIRE_FALSE(p.feed("--b\r\nContent-Disposition: form-data; name=a\r\n\r\nhalf", r));
    CHECK_FALSE(p.done());
    REQUIRE(r.parts.size() == 1);
    CHECK(r.parts[0].data == "half");
    CHECK_FALSE(r.parts[0].ended);
  }
  {
    MultipartParser p;
    REQUIRE(p.reset("b"));
    Recorder r;
    CHECK(p.feed("--b \tx", r) == FormError::bad_multipart);
    CHECK(p.feed("more", r) == FormError::bad_multipart);  // sticky
  }
  {
    MultipartParser p;
    REQUIRE(p.reset("b"));
    Recorder r;
    CHECK(p.feed("--b\rX", r) == FormError::bad_multipart);
  }
}

TEST_CASE("the boundary followed by anything but -- or a line end is content, as in Go", "[protocol][multipart]") {
  const std::string body = "--bX not yet\r\n--b-y\r\n--b\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--bX\r\n--b-y\r\n--b--";
  for (std::size_t cut = 0; cut <= body.size(); ++cut) {
    MultipartParser p;
    REQUIRE(p.reset("b"));
    Recorder r;
    REQUIRE_FALSE(p.feed(std::string_view(body).substr(0, cut), r));
    REQUIRE_FALSE(p.feed(std::string_view(body).substr(cut), r));
    CHECK(p.done());
    REQUIRE(r.parts.size() == 1);
    CHECK(r.parts[0].data == "v\r\n--bX\r\n--b-y");
  }
}

TEST_CASE("part headers are bounded", "[protocol][multipart]") {
  MultipartParser p(64);
  REQUIRE(p.reset("b"));
  Recorder r;
  CHECK(p.feed("--b\r\nContent-Disposition: form-data; name=\"" + std::string(100, 'n') + "\"\r\n\r\n", r) ==
        FormError::part_header_too_large);
}

TEST_CASE("a handler error stops the parser", "[protocol][multipart]") {
  MultipartParser p;
  REQUIRE(p.reset("b"));
  Recorder r;
  r.fail_on_data = make_error_code(FormError::bad_multipart);
  CHECK(p.feed("--b\r\nContent-Disposition: form-data; name=a\r\n\r\nvalue\r\n--b--", r) == FormError::bad_multipart);
}

TEST_CASE("Content-Disposition parameters", "[protocol][multipart]") {
  MultipartPart part;
  MultipartParser::parse_part_headers("Content-Disposition: form-data; name=\"a\\\"b\"; filename=\"C:\\dir\\f.txt\"\r\n", part);
  CHECK(part.name == "a\"b");
  CHECK(part.filename == "C:\\dir\\f.txt");  // a backslash escapes only tspecials
  MultipartParser::parse_part_headers("Content-Disposition: form-data; name=f; filename=\"x.txt\"; filename*=UTF-8''na%C3%AFve%20file.txt", part);
  CHECK(part.filename == "na\xC3\xAFve file.txt");
  MultipartParser::parse_part_headers("Content-Disposition: form-data; name=f; filename=\"\"", part);
  CHECK(part.has_filename);
  CHECK(part.filename.empty());
  MultipartParser::parse_part_headers("Content-Disposition: attachment; name=f", part);
  CHECK_FALSE(part.form_data);
  MultipartParser::parse_part_headers("Content-Type: text/plain", part);
  CHECK_FALSE(part.form_data);
  CHECK(part.content_type == "text/plain");
  MultipartParser::parse_part_headers("Content-Disposition: form-data; filename=x", part);
  CHECK_FALSE(part.form_data);  // no name: Go skips the part
  MultipartParser::parse_part_headers("Content-Disposition: form-data; name=\"d\"; filename=\"/\"", part);
  CHECK(part.filename == "/");
}

TEST_CASE("the boundary comes from the Content-Type", "[protocol][multipart]") {
  std::string b;
  CHECK(MultipartParser::boundary_from_content_type("multipart/form-data; boundary=abc", b));
  CHECK(b == "abc");
  CHECK(MultipartParser::boundary_from_content_type("Multipart/Form-Data;boundary=\"a b:c\"; charset=utf-8", b));
  CHECK(b == "a b:c");
  CHECK_FALSE(MultipartParser::boundary_from_content_type("multipart/form-data", b));
  CHECK_FALSE(MultipartParser::boundary_from_content_type("multipart/form-data; boundary=", b));
  CHECK_FALSE(MultipartParser::boundary_from_content_type("multipart/mixed; boundary=abc", b));
  CHECK_FALSE(MultipartParser::boundary_from_content_type("multipart/form-data; boundary=" + std::string(201, 'x'), b));
  MultipartParser p;
  CHECK_FALSE(p.reset(""));
}
