#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace pivot::protocol {

/// The JSON tree RoadRunner builds from form field names (protocol doc §3.3, §3.4): names are
/// split on `[`/`]` into a path ("a[b][c]" -> a, b, c; spaces dropped), `name[]` keeps every
/// value as an array, a plain repeated name keeps the last value (data) or the first (files),
/// paths deeper than kMaxLevel are dropped, and a leaf/branch clash is a FormError::conflict.
/// Values are opaque indexes into the caller's storage; the tree only orders and nests them.
/// Fields are grouped by exact name before mounting, as Go's url.Values does.
class FormTree {
 public:
  /// Which value a plain repeated name keeps.
  enum class Repeat { keep_last, keep_first };
  /// Longest path accepted (RoadRunner's MaxLevel); longer names are dropped silently.
  static constexpr std::size_t kMaxLevel = 127;

  /// An empty tree; data trees keep the last value of a repeated name, file trees the first.
  explicit FormTree(Repeat repeat) : repeat_(repeat) {}

  /// Records one field in arrival order. `empty` tells whether the value counts as empty
  /// (an empty string), which decides how clashes with other names resolve.
  void add(std::string_view name, std::uint32_t value, bool empty);
  /// Number of fields recorded since the last clear().
  std::size_t field_count() const noexcept { return fields_.size(); }
  /// Mounts every recorded field. On a clash returns FormError::conflict and sets `message` to
  /// RoadRunner's text ("invalid multiple values to key 'a' in tree").
  std::error_code build(std::string& message);
  /// True when the built tree has no key.
  bool empty() const noexcept;
  /// Appends the built tree as a JSON object with keys sorted bytewise (as Go's encoding/json);
  /// `write_value` appends the JSON of one value index.
  void append_json(std::string& out, const std::function<void(std::string&, std::uint32_t)>& write_value) const;
  /// Forgets fields and tree, keeping capacity.
  void clear();

  /// Splits a field name into its path the way RoadRunner's fetchIndexes does
  /// ("a[b][]" -> "a", "b", ""; "[x]" -> "", "x"; spaces are dropped).
  static void split_name(std::string_view name, std::vector<std::string>& path);

 private:
  struct Field {
    std::string name;
    std::uint32_t value;
    bool empty;
  };
  struct Node {
    enum class Type { branch, leaf, list } type = Type::branch;
    std::map<std::string, std::uint32_t> children;  // branch: key -> node index
    std::vector<std::uint32_t> values;              // leaf: one value; list: all values
    bool empty = false;                             // leaf/list: RoadRunner's isDataEmpty
  };
  struct Group {
    std::vector<std::uint32_t> values;
    std::vector<bool> empties;
  };

  std::uint32_t new_node();
  std::error_code mount(std::uint32_t node, const std::vector<std::string>& path, std::size_t i, const Group& g,
                        std::string& message);
  void set_leaf(std::uint32_t node, const std::vector<std::string>& path, std::size_t i, const Group& g);
  void write_node(std::string& out, std::uint32_t node,
                  const std::function<void(std::string&, std::uint32_t)>& write_value) const;

  Repeat repeat_;
  std::vector<Field> fields_;
  std::vector<Node> nodes_;
};

/// Parses an application/x-www-form-urlencoded body (pairs split on '&', '+' is a space,
/// %XX escapes) into `tree`, appending each value to `values` (the tree's value indexes).
/// A malformed escape is FormError::bad_encoding.
std::error_code parse_urlencoded(std::string_view body, FormTree& tree, std::vector<std::string>& values);

}  // namespace pivot::protocol
