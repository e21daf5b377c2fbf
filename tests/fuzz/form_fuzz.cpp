// Fuzz target: application/x-www-form-urlencoded bodies into the RoadRunner form tree
// (protocol/form_tree). The first byte picks the repeat rule; the rest is the body. The built
// tree must serialise to valid JSON whatever the field names.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/form_tree.hpp"
#include "protocol/json_writer.hpp"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  using pivot::protocol::FormTree;
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  FormTree tree((data[0] & 1) ? FormTree::Repeat::keep_first : FormTree::Repeat::keep_last);
  std::vector<std::string> values;
  if (pivot::protocol::parse_urlencoded(body, tree, values)) return 0;
  check(tree.field_count() <= values.size());
  std::string message;
  if (tree.build(message)) {
    check(!message.empty());
    return 0;
  }
  std::string out;
  tree.append_json(out, [&](std::string& o, std::uint32_t v) {
    check(v < values.size());
    pivot::protocol::append_json_string(o, values[v]);
  });
  const auto json = nlohmann::json::parse(out, nullptr, false);
  check(!json.is_discarded() && json.is_object());
  check(tree.empty() == json.empty());
  // The name splitter on its own, with the whole body as one name.
  std::vector<std::string> path;
  FormTree::split_name(body, path);
  return 0;
}
