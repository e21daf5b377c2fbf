#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "protocol/form_error.hpp"
#include "protocol/form_tree.hpp"
#include "protocol/json_writer.hpp"

using namespace pivot::protocol;
using Catch::Matchers::Contains;

namespace {

std::vector<std::string> split(std::string_view name) {
  std::vector<std::string> path;
  FormTree::split_name(name, path);
  return path;
}

/// Parses an urlencoded body and returns the data tree as JSON text ("" when the tree is empty).
std::string data_json(std::string_view body, std::error_code* err = nullptr, std::string* message = nullptr) {
  FormTree tree(FormTree::Repeat::keep_last);
  std::vector<std::string> values;
  std::error_code ec = parse_urlencoded(body, tree, values);
  std::string msg;
  if (!ec) ec = tree.build(msg);
  if (err) *err = ec;
  if (message) *message = msg;
  if (ec || tree.empty()) return "";
  std::string out;
  tree.append_json(out, [&](std::string& o, std::uint32_t v) { append_json_string(o, values[v]); });
  return out;
}

nlohmann::json tree_of(std::string_view body) {
  const std::string j = data_json(body);
  return j.empty() ? nlohmann::json::object() : nlohmann::json::parse(j);
}

std::error_code conflict_of(std::string_view body, std::string* message = nullptr) {
  std::error_code ec;
  data_json(body, &ec, message);
  return ec;
}

}  // namespace

TEST_CASE("field names split into paths as RoadRunner's fetchIndexes", "[protocol][form]") {
  CHECK(split("a") == std::vector<std::string>{"a"});
  CHECK(split("a[b][c]") == std::vector<std::string>{"a", "b", "c"});
  CHECK(split("b[]") == std::vector<std::string>{"b", ""});
  CHECK(split("a[b][]") == std::vector<std::string>{"a", "b", ""});
  CHECK(split("a[][]") == std::vector<std::string>{"a", "", ""});
  CHECK(split("[x]") == std::vector<std::string>{"", "x"});
  CHECK(split("a[b]c") == std::vector<std::string>{"a", "b", "c"});
  CHECK(split(" a [ b ] ") == std::vector<std::string>{"a", "b"});  // spaces are dropped
  CHECK(split("a b") == std::vector<std::string>{"ab"});
  CHECK(split("a[") == std::vector<std::string>{"a"});
  CHECK(split("a]") == std::vector<std::string>{"a"});
  CHECK(split("") == std::vector<std::string>{""});
}

TEST_CASE("nested keys, b[] arrays and last-value-wins", "[protocol][form]") {
  const auto j = tree_of("a[b][c]=1&b[]=x&b[]=y&c=1&c=2&d%20e=f&plus=a+b&e=");
  CHECK(j["a"]["b"]["c"] == "1");
  CHECK(j["b"] == nlohmann::json::array({"x", "y"}));
  CHECK(j["c"] == "2");
  CHECK(j["de"] == "f");  // spaces in key names are ignored
  CHECK(j["plus"] == "a b");
  CHECK(j["e"] == "");
  CHECK(j.size() == 6);
}

TEST_CASE("JSON keys come out sorted bytewise as Go's encoding/json writes them", "[protocol][form]") {
  CHECK(data_json("z=1&a=2&m[y]=3&m[b]=4&B=5") == R"({"B":"5","a":"2","m":{"b":"4","y":"3"},"z":"1"})");
}

TEST_CASE("urlencoded edge cases", "[protocol][form]") {
  CHECK(data_json("") == "");
  CHECK(data_json("&&&") == "");
  CHECK(tree_of("flag")["flag"] == "");
  CHECK(tree_of("=v")[""] == "v");
  CHECK(tree_of("k=a%3Db%26c")["k"] == "a=b&c");
  CHECK(tree_of("x[a][]=1&x[a][]=2&x[b]=3")["x"] == nlohmann::json::parse(R"({"a":["1","2"],"b":"3"})"));
  std::error_code ec;
  data_json("a=%zz", &ec);
  CHECK(ec == FormError::bad_encoding);
  data_json("a%4=1", &ec);
  CHECK(ec == FormError::bad_encoding);
}

TEST_CASE("a leaf/branch clash is RoadRunner's 'invalid multiple values' error, in either order", "[protocol][form]") {
  std::string message;
  CHECK(conflict_of("a=1&a[b]=2", &message) == FormError::conflict);
  CHECK(message == "invalid multiple values to key 'a' in tree");
  CHECK(conflict_of("a[b]=2&a=1") == FormError::conflict);
  CHECK(conflict_of("b[]=1&b[x]=2") == FormError::conflict);
  CHECK(conflict_of("b[x]=2&b[]=1") == FormError::conflict);
  CHECK(conflict_of("a[x][y]=1&a[x]=2", &message) == FormError::conflict);
  CHECK(message == "invalid multiple values to key 'x' in tree");
  CHECK(conflict_of("a=1&a[][x]=2") == FormError::conflict);
}

TEST_CASE("empty values give way instead of clashing", "[protocol][form]") {
  CHECK(tree_of("a=&a[b]=2")["a"]["b"] == "2");
  CHECK(tree_of("a[b]=2&a=")["a"]["b"] == "2");
  CHECK(tree_of("a[b]=2&a[]=")["a"]["b"] == "2");
  CHECK(tree_of("a=&a[b]=")["a"]["b"] == "");  // RoadRunner panics here; the branch wins
  CHECK(tree_of("a=1&a[]=x")["a"] == nlohmann::json::array({"x"}));
  // The Laravel case from RoadRunner's comments: an empty `options` next to options[0][id].
  const auto j = tree_of("options=&options[0][id]=97b6&options[0][name]=n&id=1");
  CHECK(j["options"]["0"]["id"] == "97b6");
  CHECK(j["id"] == "1");
}

TEST_CASE("paths deeper than 127 levels are dropped", "[protocol][form]") {
  std::string ok = "k";
  for (int i = 1; i < 127; ++i) ok += "[x]";  // 127 levels
  std::string deep = ok + "[x]";               // 128 levels
  const auto j = tree_of(ok + "=kept&" + deep + "=dropped&top=1");
  CHECK(j["top"] == "1");
  const nlohmann::json* node = &j["k"];
  for (int i = 1; i < 126; ++i) node = &(*node)["x"];
  CHECK((*node)["x"] == "kept");
  CHECK(tree_of(deep + "=dropped").empty());
}

TEST_CASE("file trees keep the first value of a plain repeated name and all values of name[]", "[protocol][form]") {
  FormTree files(FormTree::Repeat::keep_first);
  files.add("doc", 0, false);
  files.add("doc", 1, false);
  files.add("many[]", 2, false);
  files.add("many[]", 3, false);
  files.add("deep[a][b]", 4, false);
  std::string message;
  REQUIRE_FALSE(files.build(message));
  std::string out;
  files.append_json(out, [](std::string& o, std::uint32_t v) { o += std::to_string(v); });
  CHECK(out == R"({"deep":{"a":{"b":4}},"doc":0,"many":[2,3]})");
  files.clear();
  REQUIRE_FALSE(files.build(message));
  CHECK(files.empty());
}

TEST_CASE("a value group keeps its first-seen order across interleaved names", "[protocol][form]") {
  CHECK(tree_of("b[]=1&a=x&b[]=2&a=y&b[]=3")["b"] == nlohmann::json::array({"1", "2", "3"}));
  CHECK(tree_of("b[]=1&a=x&b[]=2&a=y&b[]=3")["a"] == "y");
}
