#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "protocol/json_reader.hpp"
#include "protocol/json_writer.hpp"

using namespace pivot::protocol;

TEST_CASE("json strings are escaped and always valid UTF-8", "[protocol][json]") {
  std::string out;
  append_json_string(out, "a\"b\\c\n\t\x01 é ✓");
  CHECK(out == "\"a\\\"b\\\\c\\n\\t\\u0001 é ✓\"");
  CHECK(nlohmann::json::parse(out).get<std::string>() == "a\"b\\c\n\t\x01 é ✓");

  out.clear();
  append_json_string(out, std::string("bad \xff\xfe end", 10));
  CHECK(out == "\"bad \\ufffd\\ufffd end\"");
  CHECK_NOTHROW(nlohmann::json::parse(out));

  out.clear();
  append_json_string(out, "\xed\xa0\x80");  // an encoded surrogate is invalid UTF-8
  CHECK(out == "\"\\ufffd\\ufffd\\ufffd\"");
}

TEST_CASE("json reader decodes escapes and surrogate pairs", "[protocol][json]") {
  JsonReader r(R"("x\/y\u00e9\ud83d\ude00\n")");
  std::string s;
  REQUIRE(r.read_string(s));
  CHECK(s == "x/yé\xF0\x9F\x98\x80\n");
  CHECK(r.at_end());
}

TEST_CASE("json reader skips any value", "[protocol][json]") {
  JsonReader r(R"({"a":[1,2.5e3,{"b":null}],"c":true,"d":"x"} )");
  CHECK(r.skip_value());
  CHECK(r.at_end());
  JsonReader bad(R"({"a":[1,2})");
  CHECK_FALSE(bad.skip_value());
}

TEST_CASE("json_find_int and json_find_bool read control payloads", "[protocol][json]") {
  std::int64_t pid = 0;
  CHECK(json_find_int(R"({"pid":4242})", "pid", pid));
  CHECK(pid == 4242);
  CHECK(json_find_int(R"({"x":"y", "pid" : 7 })", "pid", pid));
  CHECK(pid == 7);
  CHECK_FALSE(json_find_int(R"({"stop":true})", "pid", pid));
  CHECK_FALSE(json_find_int("not json", "pid", pid));
  bool stop = false;
  CHECK(json_find_bool(R"({"stop":true})", "stop", stop));
  CHECK(stop);
}
