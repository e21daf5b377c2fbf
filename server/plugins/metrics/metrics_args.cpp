#include "server/plugins/metrics/metrics_args.hpp"

#include <nlohmann/json.hpp>

#include <cctype>
#include <charconv>

#include "protocol/frame.hpp"
#include "protocol/rpc_frame.hpp"

namespace pivot::metrics::args {
namespace {

using Json = nlohmann::json;

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

/// The member of `obj` named `key` in any letter case (Go prefers an exact match), or nullptr.
const Json* member(const Json& obj, std::string_view key) {
  const Json* loose = nullptr;
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (it.key() == key) return &it.value();
    if (!loose && iequals(it.key(), key)) loose = &it.value();
  }
  return loose;
}

std::string type_name(const Json& j) {
  if (j.is_string()) return "string";
  if (j.is_number()) return "number";
  if (j.is_boolean()) return "bool";
  if (j.is_array()) return "array";
  if (j.is_object()) return "object";
  return "null";
}

/// Parses the body as a JSON object; an empty body (or `null`) is an empty object.
bool parse_object(const core::RpcCall& call, Json& out, std::string& error) {
  if (protocol::rpc_codec(call.flags) != protocol::flags::kCodecJson) {
    error = "rpc: " + call.method + " accepts only the json codec (as RoadRunner's PHP metrics client sends)";
    return false;
  }
  if (call.body.empty()) {
    out = Json::object();
    return true;
  }
  out = Json::parse(call.body, nullptr, false);
  if (out.is_discarded()) {
    error = "rpc: " + call.method + ": the argument is not valid JSON";
    return false;
  }
  if (out.is_null()) out = Json::object();
  if (!out.is_object()) {
    error = "rpc: " + call.method + ": the argument must be a JSON object, not " + type_name(out);
    return false;
  }
  return true;
}

bool get_string(const Json& obj, std::string_view key, std::string& out, const std::string& where, std::string& error) {
  const Json* v = member(obj, key);
  if (!v || v->is_null()) return true;
  if (!v->is_string()) {
    error = where + ": field " + std::string(key) + " must be a string, not " + type_name(*v);
    return false;
  }
  out = v->get<std::string>();
  return true;
}

bool get_strings(const Json& obj, std::string_view key, std::vector<std::string>& out, const std::string& where, std::string& error) {
  const Json* v = member(obj, key);
  if (!v || v->is_null()) return true;
  if (!v->is_array()) {
    error = where + ": field " + std::string(key) + " must be an array of strings, not " + type_name(*v);
    return false;
  }
  for (const auto& item : *v) {
    if (!item.is_string()) {
      error = where + ": field " + std::string(key) + " must be an array of strings, found " + type_name(item);
      return false;
    }
    out.push_back(item.get<std::string>());
  }
  return true;
}

bool get_number(const Json& v, double& out) {
  if (!v.is_number()) return false;
  out = v.get<double>();
  return true;
}

}  // namespace

bool decode_metric(const core::RpcCall& call, MetricArg& out, std::string& error) {
  out = MetricArg{};
  Json obj;
  if (!parse_object(call, obj, error)) return false;
  const std::string where = "rpc: " + call.method;
  if (!get_string(obj, "name", out.name, where, error)) return false;
  if (const Json* v = member(obj, "value"); v && !v->is_null() && !get_number(*v, out.value)) {
    error = where + ": field value must be a number, not " + type_name(*v);
    return false;
  }
  return get_strings(obj, "labels", out.labels, where, error);
}

bool decode_declare(const core::RpcCall& call, config::MetricsCollectorConfig& out, std::string& error) {
  out = config::MetricsCollectorConfig{};
  Json obj;
  if (!parse_object(call, obj, error)) return false;
  const std::string where = "rpc: " + call.method;
  if (!get_string(obj, "name", out.name, where, error)) return false;
  const Json* c = member(obj, "collector");
  if (!c || c->is_null()) return true;  // zero value: type "" is then an unknown collector type
  if (!c->is_object()) {
    error = where + ": field collector must be an object, not " + type_name(*c);
    return false;
  }
  if (!get_string(*c, "namespace", out.namespace_name, where, error) || !get_string(*c, "subsystem", out.subsystem, where, error) ||
      !get_string(*c, "type", out.type, where, error) || !get_string(*c, "help", out.help, where, error) ||
      !get_strings(*c, "labels", out.labels, where, error)) {
    return false;
  }
  if (const Json* b = member(*c, "buckets"); b && !b->is_null()) {
    if (!b->is_array()) {
      error = where + ": field buckets must be an array of numbers, not " + type_name(*b);
      return false;
    }
    for (const auto& item : *b) {
      double v = 0;
      if (!get_number(item, v)) {
        error = where + ": field buckets must be an array of numbers, found " + type_name(item);
        return false;
      }
      out.buckets.push_back(v);
    }
  }
  if (const Json* o = member(*c, "objectives"); o && !o->is_null()) {
    if (!o->is_object()) {
      error = where + ": field objectives must be an object of quantile: error, not " + type_name(*o);
      return false;
    }
    for (auto it = o->begin(); it != o->end(); ++it) {
      double q = 0, err = 0;
      const std::string& key = it.key();
      const auto [p, ec] = std::from_chars(key.data(), key.data() + key.size(), q);
      if (key.empty() || ec != std::errc() || p != key.data() + key.size() || !get_number(it.value(), err)) {
        error = where + ": objectives must map quantiles to errors, e.g. {\"0.5\":0.05}; got \"" + key + "\"";
        return false;
      }
      out.objectives.emplace_back(q, err);
    }
  }
  return true;
}

}  // namespace pivot::metrics::args
