#include "protocol/form_tree.hpp"

#include <unordered_map>

#include "protocol/form_error.hpp"
#include "protocol/http_payload.hpp"
#include "protocol/json_writer.hpp"

namespace pivot::protocol {
namespace {

std::error_code conflict(std::string_view key, std::string& message) {
  message = "invalid multiple values to key '";
  message.append(key);
  message.append("' in tree");
  return FormError::conflict;
}

}  // namespace

void FormTree::add(std::string_view name, std::uint32_t value, bool empty) {
  fields_.push_back(Field{std::string(name), value, empty});
}

void FormTree::clear() {
  fields_.clear();
  nodes_.clear();
}

bool FormTree::empty() const noexcept { return nodes_.empty() || nodes_[0].children.empty(); }

std::uint32_t FormTree::new_node() {
  nodes_.emplace_back();
  return static_cast<std::uint32_t>(nodes_.size() - 1);
}

void FormTree::split_name(std::string_view name, std::vector<std::string>& path) {
  path.clear();
  path.emplace_back();
  int pos = 0;  // 0: inside a key, 1: just after '[', 2: just after ']'
  for (const char c : name) {
    if (c == ' ') continue;
    if (c == '[') {
      pos = 1;
      continue;
    }
    if (c == ']') {
      if (pos == 1) path.emplace_back();
      pos = 2;
      continue;
    }
    if (pos != 0) path.emplace_back();
    path.back().push_back(c);
    pos = 0;
  }
}

std::error_code FormTree::build(std::string& message) {
  nodes_.clear();
  new_node();  // the root
  // Group by exact name, in order of first appearance (Go hands every value of a name at once).
  std::vector<Group> groups;
  std::vector<std::string_view> names;
  std::unordered_map<std::string_view, std::size_t> index;
  for (const auto& f : fields_) {
    auto [it, inserted] = index.try_emplace(f.name, groups.size());
    if (inserted) {
      groups.emplace_back();
      names.push_back(f.name);
    }
    groups[it->second].values.push_back(f.value);
    groups[it->second].empties.push_back(f.empty);
  }
  std::vector<std::string> path;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    split_name(names[g], path);
    if (path.size() > kMaxLevel) continue;
    if (auto ec = mount(0, path, 0, groups[g], message)) return ec;
  }
  return {};
}

void FormTree::set_leaf(std::uint32_t node, const std::vector<std::string>& path, std::size_t i, const Group& g) {
  Node& n = nodes_[node];
  n.children.clear();
  n.values.clear();
  if (path.size() - i == 2) {
    n.type = Node::Type::list;
    n.values = g.values;
    n.empty = g.values.empty() || (g.values.size() == 1 && g.empties[0]);
  } else {
    n.type = Node::Type::leaf;
    const std::size_t pick = repeat_ == Repeat::keep_last ? g.values.size() - 1 : 0;
    n.values.push_back(g.values[pick]);
    n.empty = g.empties[pick];
  }
}

std::error_code FormTree::mount(std::uint32_t node, const std::vector<std::string>& path, std::size_t i, const Group& g,
                                std::string& message) {
  const std::string& key = path[i];
  const std::size_t remaining = path.size() - i;
  const bool incoming_empty = g.values.empty() || (g.values.size() == 1 && g.empties[0]);
  const bool list_incoming = remaining == 2 && path[i + 1].empty();
  std::uint32_t child = 0;
  if (auto it = nodes_[node].children.find(key); it == nodes_[node].children.end()) {
    child = new_node();
    nodes_[node].children.emplace(key, child);
  } else {
    child = it->second;
    const Node& c = nodes_[child];
    const bool is_branch = c.type == Node::Type::branch;
    if (!is_branch) {
      if (!c.empty) {
        // A value already sits here and a deeper path arrives.
        if (remaining > 1 && !path[i + 1].empty()) return conflict(key, message);
        if (incoming_empty) return {};
      }
      if (c.empty && !incoming_empty) nodes_[child] = Node{};
    } else if (remaining == 1 || list_incoming) {
      // A branch already sits here and a value arrives: only an empty value is tolerated.
      if (!incoming_empty) return conflict(key, message);
      return {};
    }
  }
  if (remaining == 1 || list_incoming) {
    set_leaf(child, path, i, g);
    return {};
  }
  if (nodes_[child].type != Node::Type::branch) {
    // RoadRunner panics here; an empty value gives way to the branch, a real one is a clash.
    if (!nodes_[child].empty) return conflict(key, message);
    nodes_[child] = Node{};
  }
  return mount(child, path, i + 1, g, message);
}

void FormTree::append_json(std::string& out, const std::function<void(std::string&, std::uint32_t)>& write_value) const {
  if (nodes_.empty()) {
    out.append("{}");
    return;
  }
  write_node(out, 0, write_value);
}

void FormTree::write_node(std::string& out, std::uint32_t node,
                          const std::function<void(std::string&, std::uint32_t)>& write_value) const {
  const Node& n = nodes_[node];
  switch (n.type) {
    case Node::Type::leaf:
      write_value(out, n.values.front());
      return;
    case Node::Type::list:
      out.push_back('[');
      for (std::size_t k = 0; k < n.values.size(); ++k) {
        if (k) out.push_back(',');
        write_value(out, n.values[k]);
      }
      out.push_back(']');
      return;
    case Node::Type::branch:
      break;
  }
  out.push_back('{');
  bool first = true;
  for (const auto& [key, child] : n.children) {
    if (!first) out.push_back(',');
    first = false;
    append_json_string(out, key);
    out.push_back(':');
    write_node(out, child, write_value);
  }
  out.push_back('}');
}

std::error_code parse_urlencoded(std::string_view body, FormTree& tree, std::vector<std::string>& values) {
  std::string key;
  std::string value;
  while (!body.empty()) {
    const std::size_t amp = body.find('&');
    const std::string_view pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view{} : body.substr(amp + 1);
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    if (!url_unescape(pair.substr(0, eq), key, true)) return FormError::bad_encoding;
    if (!url_unescape(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1), value, true)) {
      return FormError::bad_encoding;
    }
    tree.add(key, static_cast<std::uint32_t>(values.size()), value.empty());
    values.push_back(value);
  }
  return {};
}

}  // namespace pivot::protocol
