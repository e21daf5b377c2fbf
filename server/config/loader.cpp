#include "server/config/loader.hpp"

#include <arpa/inet.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "server/config/config_error.hpp"
#include "server/config/metrics_collector.hpp"  // Metrics plugin
#include "server/config/yaml_json.hpp"

namespace pivot::config {
namespace {

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    }
    prev.swap(cur);
  }
  return prev[b.size()];
}

std::string join_keys(const std::vector<std::string>& keys) {
  std::string out;
  for (const auto& k : keys) {
    if (!out.empty()) out += ", ";
    out += k;
  }
  return out;
}

/// Parses a duration: Go syntax ("60s", "1m30s", "500ms", "2h") or a bare number of seconds.
bool parse_duration(const std::string& text, Duration& out) {
  if (text.empty()) return false;
  if (std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    // Seconds; more than milliseconds can hold is refused (std::stoll used to throw out_of_range).
    std::int64_t seconds = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
    if (ec != std::errc() || end != text.data() + text.size() ||
        seconds > std::numeric_limits<Duration::rep>::max() / 1000) {
      return false;
    }
    out = std::chrono::seconds(seconds);
    return true;
  }
  double total_ms = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t j = i;
    while (j < text.size() && ((text[j] >= '0' && text[j] <= '9') || text[j] == '.')) ++j;
    if (j == i) return false;
    double value = 0;
    try {
      value = std::stod(text.substr(i, j - i));
    } catch (...) {
      return false;
    }
    std::size_t k = j;
    while (k < text.size() && ((text[k] >= 'a' && text[k] <= 'z'))) ++k;
    const std::string unit = text.substr(j, k - j);
    double scale = 0;
    if (unit == "h") scale = 3600e3;
    else if (unit == "m") scale = 60e3;
    else if (unit == "s") scale = 1e3;
    else if (unit == "ms") scale = 1;
    else if (unit == "us") scale = 1e-3;
    else if (unit == "ns") scale = 1e-6;
    else return false;
    total_ms += value * scale;
    i = k;
  }
  // A total beyond what milliseconds hold (1e23s) is refused, not cast (UB; found by tests/fuzz).
  if (!(total_ms + 0.5 < 9.2e18)) return false;
  out = Duration(static_cast<Duration::rep>(total_ms + 0.5));
  return true;
}

/// Walks one YAML mapping, remembering which keys were read so unknown ones can be reported.
class Section {
 public:
  Section(YAML::Node node, std::string path, const EnvLookup& env, std::vector<std::string>& warnings)
      : node_(std::move(node)), path_(std::move(path)), env_(env), warnings_(warnings) {
    if (node_ && !node_.IsNull() && !node_.IsMap()) {
      throw ConfigError("config key " + display(path_) + ": expected a mapping of keys");
    }
  }

  bool has(const std::string& key) {
    known_.insert(key);
    return node_ && node_.IsMap() && get(key) && !get(key).IsNull();
  }

  std::string key_path(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

  std::string scalar(const std::string& key) {
    const YAML::Node n = get(key);
    if (!n.IsScalar()) throw ConfigError("config key " + key_path(key) + ": expected a single value, not a list or mapping");
    return expand_env(n.Scalar(), env_, key_path(key));
  }

  std::string string(const std::string& key, const std::string& dflt) { return has(key) ? scalar(key) : dflt; }

  std::string one_of(const std::string& key, const std::string& dflt, const std::vector<std::string>& allowed) {
    std::string v = string(key, dflt);
    if (std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
      throw ConfigError("config key " + key_path(key) + ": \"" + v + "\" is not allowed; use one of: " + join_keys(allowed));
    }
    return v;
  }

  std::int64_t integer(const std::string& key, std::int64_t dflt, std::int64_t min, std::int64_t max) {
    if (!has(key)) return dflt;
    const std::string text = scalar(key);
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || p != text.data() + text.size()) {
      throw ConfigError("config key " + key_path(key) + ": expected an integer, got \"" + text + "\"");
    }
    if (v < min || v > max) {
      throw ConfigError("config key " + key_path(key) + ": " + text + " is out of range; allowed " +
                        std::to_string(min) + ".." + std::to_string(max));
    }
    return v;
  }

  bool boolean(const std::string& key, bool dflt) {
    if (!has(key)) return dflt;
    const std::string text = scalar(key);
    if (text == "true" || text == "yes" || text == "on") return true;
    if (text == "false" || text == "no" || text == "off") return false;
    throw ConfigError("config key " + key_path(key) + ": expected true or false, got \"" + text + "\"");
  }

  Duration duration(const std::string& key, Duration dflt) {
    if (!has(key)) return dflt;
    const std::string text = scalar(key);
    Duration d{};
    if (!parse_duration(text, d) || d.count() < 0) {
      throw ConfigError("config key " + key_path(key) + ": expected a duration such as 500ms, 30s, 1m or a number of seconds, got \"" +
                        text + "\"");
    }
    return d;
  }

  /// A command: a string split on single spaces (no shell, no quoting), or a list used verbatim.
  std::vector<std::string> command(const std::string& key) {
    std::vector<std::string> argv;
    if (!has(key)) return argv;
    const YAML::Node n = get(key);
    if (n.IsSequence()) {
      for (std::size_t i = 0; i < n.size(); ++i) {
        if (!n[i].IsScalar()) throw ConfigError("config key " + key_path(key) + "[" + std::to_string(i) + "]: expected a string");
        argv.push_back(expand_env(n[i].Scalar(), env_, key_path(key)));
      }
    } else {
      std::string text = scalar(key);
      std::size_t start = 0;
      while (start <= text.size()) {
        const std::size_t sp = text.find(' ', start);
        std::string part = text.substr(start, sp == std::string::npos ? std::string::npos : sp - start);
        if (!part.empty()) argv.push_back(std::move(part));
        if (sp == std::string::npos) break;
        start = sp + 1;
      }
    }
    if (argv.empty()) throw ConfigError("config key " + key_path(key) + ": the command is empty");
    return argv;
  }

  /// A list of strings; `dflt` when absent. A single string is not a list (an error naming the key).
  std::vector<std::string> strings(const std::string& key, std::vector<std::string> dflt) {
    if (!has(key)) return dflt;
    const YAML::Node n = get(key);
    if (!n.IsSequence()) {
      throw ConfigError("config key " + key_path(key) + ": expected a list of strings, for example [\"a\", \"b\"] (or [] for none)");
    }
    std::vector<std::string> out;
    for (std::size_t i = 0; i < n.size(); ++i) {
      const std::string item = key_path(key) + "[" + std::to_string(i) + "]";
      if (!n[i].IsScalar()) throw ConfigError("config key " + item + ": expected a string");
      out.push_back(expand_env(n[i].Scalar(), env_, item));
    }
    return out;
  }

  std::vector<std::pair<std::string, std::string>> env_map(const std::string& key) {
    std::vector<std::pair<std::string, std::string>> out;
    if (!has(key)) return out;
    const YAML::Node n = get(key);
    if (!n.IsMap()) throw ConfigError("config key " + key_path(key) + ": expected a mapping of NAME: value");
    for (const auto& kv : n) {
      std::string name = kv.first.Scalar();
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::toupper(c); });
      if (!kv.second.IsScalar()) throw ConfigError("config key " + key_path(key) + "." + kv.first.Scalar() + ": expected a string");
      out.emplace_back(name, expand_env(kv.second.Scalar(), env_, key_path(key) + "." + kv.first.Scalar()));
    }
    return out;
  }

  /// A mapping of name: string, names as written, in file order.
  std::vector<std::pair<std::string, std::string>> string_map(const std::string& key) {
    std::vector<std::pair<std::string, std::string>> out;
    if (!has(key)) return out;
    const YAML::Node n = get(key);
    if (!n.IsMap()) throw ConfigError("config key " + key_path(key) + ": expected a mapping of Name: value");
    for (const auto& kv : n) {
      const std::string name = kv.first.Scalar();
      if (!kv.second.IsScalar()) throw ConfigError("config key " + key_path(key) + "." + name + ": expected a string");
      out.emplace_back(name, expand_env(kv.second.Scalar(), env_, key_path(key) + "." + name));
    }
    return out;
  }

  Section section(const std::string& key) {
    has(key);
    return Section(node_ ? get(key) : YAML::Node(), key_path(key), env_, warnings_);
  }

  /// Every key of this mapping in file order, each marked as known (for sections whose keys are
  /// user-chosen names, such as kv.<storage>).
  std::vector<std::string> keys() {
    std::vector<std::string> out;
    if (!node_ || !node_.IsMap()) return out;
    for (const auto& kv : node_) {
      out.push_back(kv.first.Scalar());
      known_.insert(out.back());
    }
    return out;
  }

  /// A list of strings (a single string counts as a one-item list); `dflt` when absent.
  std::vector<std::string> string_list(const std::string& key, std::vector<std::string> dflt) {
    if (!has(key)) return dflt;
    const YAML::Node n = get(key);
    if (n.IsScalar()) return {scalar(key)};
    if (!n.IsSequence()) throw ConfigError("config key " + key_path(key) + ": expected a list of strings, for example [\"a\", \"b\"]");
    std::vector<std::string> out;
    for (std::size_t i = 0; i < n.size(); ++i) {
      const std::string item = key_path(key) + "[" + std::to_string(i) + "]";
      if (!n[i].IsScalar()) throw ConfigError("config key " + item + ": expected a string");
      out.push_back(expand_env(n[i].Scalar(), env_, item));
    }
    return out;
  }

  /// Jobs plugin: the value at `key` as JSON (${VAR} expanded, as yaml_to_json does), marked
  /// as known; null when absent.
  nlohmann::json json(const std::string& key) {
    if (!has(key)) return nullptr;
    return nlohmann::json(yaml_to_json(get(key), env_));
  }

  /// Keys RoadRunner knows that we parse but do not act on yet: a warning, not an error.
  void not_yet(const std::vector<std::string>& keys, const std::string& why) {
    for (const auto& k : keys) {
      if (has(k)) warnings_.push_back("config key " + key_path(k) + " is not supported yet and is ignored (" + why + ")");
    }
  }

  /// Throws on keys that were never asked for: one line per unknown key, each with a did-you-mean.
  void finish() {
    if (!node_ || !node_.IsMap()) return;
    std::string all_errors;
    for (const auto& kv : node_) {
      const std::string key = kv.first.Scalar();
      if (known_.count(key)) continue;
      std::string msg = "config key " + key_path(key) + " is unknown";
      std::string best;
      std::size_t best_d = 3;
      for (const auto& k : known_) {
        const std::size_t d = edit_distance(key, k);
        if (d < best_d) {
          best_d = d;
          best = k;
        }
      }
      if (!best.empty()) msg += "; did you mean " + key_path(best) + "?";
      std::vector<std::string> all(known_.begin(), known_.end());
      msg += " Allowed here: " + join_keys(all);
      if (!all_errors.empty()) all_errors += "\n";
      all_errors += msg;
    }
    if (!all_errors.empty()) throw ConfigError(all_errors);
  }

 private:
  YAML::Node get(const std::string& key) const {
    const YAML::Node& n = node_;
    return n[key];
  }
  static std::string display(const std::string& p) { return p.empty() ? "(root)" : p; }

  YAML::Node node_;
  std::string path_;
  const EnvLookup& env_;
  std::vector<std::string>& warnings_;
  std::set<std::string> known_;
};

void apply_override(YAML::Node& root, const std::string& spec) {
  const std::size_t eq = spec.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw ConfigError("override \"" + spec + "\": expected key.path=value");
  }
  const std::string path = spec.substr(0, eq);
  const std::string value = spec.substr(eq + 1);
  std::vector<std::string> parts;
  std::stringstream ss(path);
  for (std::string part; std::getline(ss, part, '.');) {
    if (part.empty()) throw ConfigError("override \"" + spec + "\": empty key in the path");
    parts.push_back(part);
  }
  YAML::Node cur = root;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    YAML::Node next = cur[parts[i]];
    if (!next || next.IsNull()) {
      cur[parts[i]] = YAML::Node(YAML::NodeType::Map);
      next = cur[parts[i]];
    } else if (!next.IsMap()) {
      throw ConfigError("override \"" + spec + "\": " + parts[i] + " is not a mapping");
    }
    cur.reset(next);
  }
  YAML::Node parsed;
  try {
    parsed = YAML::Load(value);
  } catch (const YAML::Exception&) {
    parsed = YAML::Node(value);
  }
  if (!parsed || parsed.IsNull()) parsed = YAML::Node(value);
  cur[parts.back()] = parsed;
}

std::pair<std::string, std::uint16_t> parse_address(const std::string& key, const std::string& addr) {
  const std::size_t colon = addr.rfind(':');
  if (colon == std::string::npos) {
    throw ConfigError("config key " + key + ": \"" + addr + "\" must be host:port, for example 127.0.0.1:8080 or :8080");
  }
  std::string host = addr.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty()) host = "0.0.0.0";
  const std::string port_text = addr.substr(colon + 1);
  unsigned port = 0;
  auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || p != port_text.data() + port_text.size() || port > 65535) {
    throw ConfigError("config key " + key + ": port \"" + port_text + "\" must be a number 0..65535");
  }
  return {host, static_cast<std::uint16_t>(port)};
}

/// One pool section (`http.pool`, `jobs.pool`). Pipelining and SCHED_BATCH workers are on by
/// default for HTTP (short requests, measured in bench/) and off for jobs.
PoolConfig read_pool(Section s, bool http) {
  PoolConfig p;
  p.command = s.command("command");
  const auto cpus = std::max(1U, std::thread::hardware_concurrency());
  p.num_workers = static_cast<unsigned>(s.integer("num_workers", cpus, 0, 500));
  if (p.num_workers == 0) p.num_workers = cpus;
  p.max_jobs = static_cast<std::uint64_t>(s.integer("max_jobs", 0, 0, INT64_MAX));
  p.max_queue_size = static_cast<std::uint64_t>(s.integer("max_queue_size", 0, 0, INT64_MAX));
  p.allocate_timeout = s.duration("allocate_timeout", std::chrono::seconds(60));
  p.destroy_timeout = s.duration("destroy_timeout", std::chrono::seconds(60));
  p.reset_timeout = s.duration("reset_timeout", std::chrono::seconds(60));
  p.stream_timeout = s.duration("stream_timeout", std::chrono::seconds(60));
  p.debug = s.boolean("debug", false);
  p.pipeline_depth = static_cast<unsigned>(s.integer("pipeline_depth", http ? 2 : 0, 0, 16));
  p.pipeline_max_exec = s.duration("pipeline_max_exec", std::chrono::milliseconds(2));
  p.pipeline_max_wait = s.duration("pipeline_max_wait", std::chrono::milliseconds(5));
  p.sched_batch = s.boolean("sched_batch", http);
  if (p.allocate_timeout.count() == 0) throw ConfigError("config key " + s.key_path("allocate_timeout") + ": must be greater than 0");
  if (p.stream_timeout.count() == 0) throw ConfigError("config key " + s.key_path("stream_timeout") + ": must be greater than 0 (default 60s)");
  if (s.has("supervisor")) {
    Section sv = s.section("supervisor");
    p.supervisor.enabled = true;
    p.supervisor.watch_tick = sv.duration("watch_tick", std::chrono::seconds(5));
    p.supervisor.ttl = sv.duration("ttl", Duration{0});
    p.supervisor.idle_ttl = sv.duration("idle_ttl", Duration{0});
    p.supervisor.max_worker_memory = static_cast<std::uint64_t>(sv.integer("max_worker_memory", 0, 0, 1 << 30));
    p.supervisor.exec_ttl = sv.duration("exec_ttl", Duration{0});
    if (p.supervisor.watch_tick.count() < 10) {
      throw ConfigError("config key " + sv.key_path("watch_tick") + ": must be at least 10ms (default 5s)");
    }
    sv.finish();
  }
  s.not_yet({"dynamic_allocator"}, "planned");
  s.finish();
  return p;
}

/// `http.uploads.forbid` / `allow`: lower-cased extensions that must start with a dot.
/// With `skip_empty` (http.static, as RoadRunner) "" entries are dropped: RoadRunner's docs write forbid: [""].
std::vector<std::string> read_extensions(Section& s, const std::string& key, std::vector<std::string> dflt, bool skip_empty = false) {
  std::vector<std::string> exts = s.strings(key, std::move(dflt));
  for (std::size_t i = 0; i < exts.size(); ++i) {
    auto& e = exts[i];
    if (skip_empty && e.empty()) continue;
    if (e.size() < 2 || e[0] != '.' || e.find('/') != std::string::npos) {
      throw ConfigError("config key " + s.key_path(key) + "[" + std::to_string(i) + "]: \"" + e +
                        "\" is not a file extension; write it with the dot, for example \".php\"");
    }
    std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  }
  std::erase(exts, std::string());
  return exts;
}

UploadsConfig read_uploads(Section s) {
  UploadsConfig u;
  u.dir = s.string("dir", "");
  u.forbid = read_extensions(s, "forbid", {".php", ".exe", ".bat"});
  u.allow = read_extensions(s, "allow", {});
  u.max_file_size = static_cast<std::uint64_t>(s.integer("max_file_size", 0, 0, 1 << 20)) * 1024 * 1024;
  u.max_files = static_cast<std::uint64_t>(s.integer("max_files", 1000, 0, 1 << 30));
  s.finish();
  return u;
}

/// `http.static.request` / `response`: header name -> value, in file order. Names must be HTTP
/// tokens and values single-line, so they can go on the wire as they are.
std::vector<std::pair<std::string, std::string>> read_header_map(Section& s, const std::string& key) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, value] : s.string_map(key)) {
    const std::string path = s.key_path(key) + "." + name;
    const bool token = !name.empty() && std::all_of(name.begin(), name.end(), [](unsigned char c) {
      return std::isalnum(c) || std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
    });
    if (!token) throw ConfigError("config key " + path + ": \"" + name + "\" is not a header name (letters, digits and !#$%&'*+-.^_`|~)");
    if (value.find_first_of(std::string("\r\n\0", 3)) != std::string::npos) {
      throw ConfigError("config key " + path + ": a header value must be a single line");
    }
    out.emplace_back(name, value);
  }
  return out;
}

/// `http.static` (RoadRunner's static middleware). The directory itself is checked at start.
StaticConfig read_static(Section s) {
  StaticConfig c;
  c.enabled = true;
  c.dir = s.string("dir", ".");
  if (c.dir.empty()) throw ConfigError("config key " + s.key_path("dir") + ": must name a directory, for example \"public\"");
  c.forbid = read_extensions(s, "forbid", {".php", ".htaccess"}, true);
  c.allow = read_extensions(s, "allow", {}, true);
  c.calculate_etag = s.boolean("calculate_etag", false);
  c.weak = s.boolean("weak", false);
  c.request = read_header_map(s, "request");
  c.response = read_header_map(s, "response");
  s.finish();
  return c;
}

/// `http.gzip` (pivot-server extension; RoadRunner's gzip middleware has no settings).
void read_gzip(Section s, GzipConfig& g) {
  g.enabled = true;
  g.level = static_cast<int>(s.integer("level", 6, 1, 9));
  g.min_length = static_cast<std::uint64_t>(s.integer("min_length", 1024, 0, INT64_MAX));
  g.static_max_size = static_cast<std::uint64_t>(s.integer("static_max_size", 1024 * 1024, 0, 256LL * 1024 * 1024));
  g.exclude_types = s.strings("exclude_types", g.exclude_types);
  for (std::size_t i = 0; i < g.exclude_types.size(); ++i) {
    auto& t = g.exclude_types[i];
    std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const auto slash = t.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == t.size() || t.find_first_of(" ;,") != std::string::npos) {
      throw ConfigError("config key " + s.key_path("exclude_types") + "[" + std::to_string(i) + "]: \"" + t +
                        "\" is not a media type; write type/subtype or type/*, for example \"image/*\"");
    }
  }
  s.finish();
}

/// `http.middleware`: RoadRunner's ordered middleware list. gzip and static act here (static also
/// needs its http.static section); http_metrics is implied by the metrics section; RoadRunner's
/// other middleware names are accepted with a warning.
void read_middleware(Section& s, HttpConfig& http, std::vector<std::string>& warnings) {
  static const std::vector<std::string> known{"gzip", "static", "http_metrics", "headers", "sendfile", "proxy_ip_parser", "otel", "cache"};
  const auto names = s.string_list("middleware", {});
  for (std::size_t i = 0; i < names.size(); ++i) {
    const std::string& n = names[i];
    const std::string path = s.key_path("middleware") + "[" + std::to_string(i) + "]";
    if (n == "gzip") {
      http.gzip.enabled = true;
    } else if (n == "static") {
      if (!http.static_files.enabled) {
        throw ConfigError("config key " + path + ": \"static\" needs an http.static section with at least dir, for example dir: \"public\"");
      }
    } else if (n == "http_metrics") {
      // The request metrics are on whenever the metrics section exists.
    } else if (std::find(known.begin(), known.end(), n) != known.end()) {
      warnings.push_back("config key " + path + ": middleware \"" + n + "\" is not supported yet and is ignored");
    } else {
      throw ConfigError("config key " + path + ": unknown middleware \"" + n + "\"; allowed: " + join_keys(known));
    }
  }
}

/// "10.0.0.0/8", "fc00::/7" or a bare address (a /32 or /128). Host bits are cleared, as Go's
/// net.ParseCIDR does.
Cidr parse_cidr(const std::string& key, const std::string& text) {
  auto bad = [&]() {
    return ConfigError("config key " + key + ": \"" + text +
                       "\" is not a CIDR; use address/prefix such as 10.0.0.0/8, 127.0.0.1/32 or fd00::/8");
  };
  Cidr c;
  c.text = text;
  const std::size_t slash = text.find('/');
  const std::string addr = text.substr(0, slash);
  unsigned prefix = 0;
  bool v4 = false;
  in_addr a4{};
  in6_addr a6{};
  if (::inet_pton(AF_INET, addr.c_str(), &a4) == 1) {
    v4 = true;
    c.address[10] = 0xff;
    c.address[11] = 0xff;
    std::memcpy(c.address.data() + 12, &a4, 4);
  } else if (::inet_pton(AF_INET6, addr.c_str(), &a6) == 1) {
    std::memcpy(c.address.data(), &a6, 16);
  } else {
    throw bad();
  }
  const unsigned max_prefix = v4 ? 32 : 128;
  if (slash == std::string::npos) {
    prefix = max_prefix;
  } else {
    const std::string p = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), prefix);
    if (p.empty() || ec != std::errc() || end != p.data() + p.size() || prefix > max_prefix) throw bad();
  }
  c.prefix = v4 ? prefix + 96 : prefix;
  for (unsigned bit = c.prefix; bit < 128; ++bit) c.address[bit / 8] &= static_cast<std::uint8_t>(~(0x80U >> (bit % 8)));
  return c;
}

// --- KV plugin (issue #5) ----------------------------------------------------------------------

/// `kv.<name>.config` of the memory driver.
KvMemoryConfig read_kv_memory(Section s) {
  KvMemoryConfig m;
  m.interval = s.duration("interval", std::chrono::seconds(1));
  if (m.interval < std::chrono::milliseconds(10)) {
    throw ConfigError("config key " + s.key_path("interval") + ": must be at least 10ms (default 1s)");
  }
  s.finish();
  return m;
}

/// `kv.<name>.config` of the redis driver: RoadRunner's redis kv keys (0 = the default, as in
/// go-redis), plus `prefix`. Cluster, sentinel and TLS keys are recognised and warned about.
KvRedisConfig read_kv_redis(Section s, std::vector<std::string>& warnings) {
  KvRedisConfig r;
  const auto addrs = s.strings("addrs", {"127.0.0.1:6379"});
  if (addrs.empty()) {
    throw ConfigError("config key " + s.key_path("addrs") + ": needs one host:port, for example [\"127.0.0.1:6379\"]");
  }
  const std::string first = s.key_path("addrs") + "[0]";
  const auto [host, port] = parse_address(first, addrs[0]);
  if (port == 0) throw ConfigError("config key " + first + ": \"" + addrs[0] + "\" needs a port other than 0, for example 127.0.0.1:6379");
  r.host = addrs[0].rfind(':') == 0 ? "127.0.0.1" : host;  // ":6379" means the local server
  r.port = port;
  if (addrs.size() > 1) {
    warnings.push_back("config key " + s.key_path("addrs") + ": only the first address (" + addrs[0] +
                       ") is used; Redis Cluster and Sentinel are not supported");
  }
  r.username = s.string("username", "");
  r.password = s.string("password", "");
  r.db = static_cast<unsigned>(s.integer("db", 0, 0, 1 << 20));
  r.prefix = s.string("prefix", "");
  r.dial_timeout = s.duration("dial_timeout", Duration{0});
  if (r.dial_timeout.count() == 0) r.dial_timeout = std::chrono::seconds(5);
  r.read_timeout = s.duration("read_timeout", Duration{0});
  if (r.read_timeout.count() == 0) r.read_timeout = std::chrono::seconds(3);
  r.write_timeout = s.duration("write_timeout", Duration{0});
  if (r.write_timeout.count() == 0) r.write_timeout = r.read_timeout;
  r.pool_size = static_cast<unsigned>(s.integer("pool_size", 0, 0, 128));
  if (r.pool_size == 0) r.pool_size = 4;
  s.not_yet({"master_name", "sentinel_password", "route_by_latency", "route_randomly", "max_retries", "min_retry_backoff",
             "max_retry_backoff", "min_idle_conns", "max_conn_age", "pool_timeout", "idle_timeout", "idle_check_freq",
             "read_only", "tls"},
            "one Redis server, plain TCP");
  s.finish();
  return r;
}

/// The `kv` section: one storage per key, each `driver` + `config`.
KvConfig read_kv(Section s, std::vector<std::string>& warnings) {
  KvConfig kv;
  kv.enabled = true;
  for (const auto& name : s.keys()) {
    Section st = s.section(name);
    KvStorageConfig c;
    c.name = name;
    if (!st.has("driver")) throw ConfigError("config key " + st.key_path("driver") + " is required; use one of: memory, redis");
    c.driver = st.one_of("driver", "", {"memory", "redis"});
    if (c.driver == "memory") {
      c.memory = read_kv_memory(st.section("config"));
    } else {
      c.redis = read_kv_redis(st.section("config"), warnings);
    }
    st.finish();
    kv.storages.push_back(std::move(c));
  }
  s.finish();
  return kv;
}

// --- end KV plugin -----------------------------------------------------------------------------

// --- Metrics plugin (issue #5) -----------------------------------------------------------------

/// A number as YAML writes it: 0.5, 1e3, .inf / +Inf.
double parse_number(const std::string& key, const std::string& text) {
  if (text == ".inf" || text == "+.inf" || text == "+Inf" || text == "Inf" || text == "inf") return std::numeric_limits<double>::infinity();
  double v = 0;
  const char* begin = text.data() + (!text.empty() && text[0] == '+' ? 1 : 0);
  auto [p, ec] = std::from_chars(begin, text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size()) {
    throw ConfigError("config key " + key + ": expected a number, got \"" + text + "\"");
  }
  return v;
}

/// `metrics.collect.<name>`: the fields of RPC metrics.Declare's `collector` object.
MetricsCollectorConfig read_metrics_collector(Section s, const std::string& name, const std::string& path) {
  MetricsCollectorConfig c;
  c.name = name;
  if (!s.has("type")) {
    throw ConfigError("config key " + s.key_path("type") + " is required; use one of: counter, gauge, histogram, summary");
  }
  c.type = s.one_of("type", "", {"counter", "gauge", "histogram", "summary"});
  c.namespace_name = s.string("namespace", "");
  c.subsystem = s.string("subsystem", "");
  c.help = s.string("help", "");
  c.labels = s.strings("labels", {});
  const auto buckets = s.strings("buckets", {});
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    c.buckets.push_back(parse_number(s.key_path("buckets") + "[" + std::to_string(i) + "]", buckets[i]));
  }
  if (s.has("objectives")) {
    Section o = s.section("objectives");  // quantile: allowed error, e.g. {0.5: 0.05, 0.99: 0.001}
    for (const auto& q : o.keys()) {
      c.objectives.emplace_back(parse_number(o.key_path(q), q), parse_number(o.key_path(q), o.scalar(q)));
    }
    o.finish();
  }
  s.finish();
  if (const std::string problem = metrics_collector_problem(c); !problem.empty()) {
    throw ConfigError("config key " + path + ": " + problem);
  }
  return c;
}

/// The `metrics` section: the /metrics endpoint and the collectors declared at start.
MetricsConfig read_metrics(Section s) {
  MetricsConfig m;
  m.enabled = true;
  const auto [host, port] = parse_address("metrics.address", s.string("address", "127.0.0.1:2112"));
  m.host = host;
  m.port = port;
  Section collect = s.section("collect");
  std::map<std::string, std::string> full_names;  // full name -> the collector that has it
  for (const auto& name : collect.keys()) {
    MetricsCollectorConfig c = read_metrics_collector(collect.section(name), name, collect.key_path(name));
    const auto [it, fresh] = full_names.emplace(metrics_full_name(c), name);
    if (!fresh) {
      throw ConfigError("config key " + collect.key_path(name) + ": its full name " + it->first + " is already used by " +
                        collect.key_path(it->second));
    }
    m.collect.push_back(std::move(c));
  }
  collect.finish();
  s.finish();
  return m;
}

// --- end Metrics plugin ------------------------------------------------------------------------

// --- Jobs plugin (issue #6) --------------------------------------------------------------------

/// The `jobs` section: pool, pollers, pipelines (parse_jobs_pipeline) and the consumed ones.
JobsConfig read_jobs(Section s) {
  JobsConfig j;
  j.enabled = true;
  j.pool = read_pool(s.section("pool"), false);
  j.num_pollers = static_cast<unsigned>(s.integer("num_pollers", 0, 0, 10000));
  if (j.num_pollers == 0) j.num_pollers = j.pool.num_workers + 2;  // RoadRunner's rule
  j.pipeline_size = static_cast<std::uint64_t>(s.integer("pipeline_size", 1000000, 1, INT64_MAX));
  j.timeout = s.duration("timeout", std::chrono::seconds(60));
  if (j.timeout.count() == 0) throw ConfigError("config key " + s.key_path("timeout") + ": must be greater than 0 (default 60s)");
  Section pipelines = s.section("pipelines");
  for (const auto& name : pipelines.keys()) {
    j.pipelines.push_back(parse_jobs_pipeline(name, pipelines.json(name), pipelines.key_path(name)));
  }
  pipelines.finish();
  auto declared = [&](const std::string& name) {
    return std::any_of(j.pipelines.begin(), j.pipelines.end(), [&](const JobsPipelineConfig& p) { return p.name == name; });
  };
  auto names = [&]() {
    std::string out;
    for (const auto& p : j.pipelines) out += (out.empty() ? "" : ", ") + p.name;
    return out.empty() ? std::string("(none declared under jobs.pipelines)") : out;
  };
  j.consume = s.string_list("consume", {});
  for (std::size_t i = 0; i < j.consume.size(); ++i) {
    if (!declared(j.consume[i])) {
      throw ConfigError("config key " + s.key_path("consume") + "[" + std::to_string(i) + "]: no pipeline named \"" + j.consume[i] +
                        "\"; declared: " + names());
    }
  }
  for (const auto& p : j.pipelines) {
    if (!p.dead_letter.empty() && !declared(p.dead_letter)) {
      throw ConfigError("config key jobs.pipelines." + p.name + ".config.dead_letter: no pipeline named \"" + p.dead_letter +
                        "\"; declared: " + names());
    }
  }
  s.not_yet({"options"}, "no per-pipeline parallelism option yet; use num_pollers");
  s.finish();
  if (j.pool.debug) {
    j.pool.max_jobs = 1;
    j.pool.num_workers = 0;
  }
  return j;
}

// --- end Jobs plugin ---------------------------------------------------------------------------

/// Deep merge: mappings merge key by key, anything else in `over` replaces what `base` has.
void merge_into(YAML::Node base, const YAML::Node& over) {
  for (const auto& kv : over) {
    const std::string key = kv.first.Scalar();
    YAML::Node existing = base[key];
    if (existing && existing.IsMap() && kv.second.IsMap()) {
      merge_into(existing, kv.second);
    } else {
      base[key] = YAML::Clone(kv.second);
    }
  }
}

/// `include: [a.yaml, b.yaml]` (or one string): each file, relative to the including file's
/// directory, is merged over the config in order, so later files win; `-o` overrides come after.
void apply_includes(YAML::Node& root, const std::string& source, const EnvLookup& env) {
  const YAML::Node inc = root["include"];
  if (!inc) return;
  std::vector<std::string> files;
  if (inc.IsScalar()) {
    files.push_back(expand_env(inc.Scalar(), env, "include"));
  } else if (inc.IsSequence()) {
    for (std::size_t i = 0; i < inc.size(); ++i) {
      if (!inc[i].IsScalar()) throw ConfigError("config key include[" + std::to_string(i) + "]: expected a file name");
      files.push_back(expand_env(inc[i].Scalar(), env, "include[" + std::to_string(i) + "]"));
    }
  } else if (!inc.IsNull()) {
    throw ConfigError("config key include: expected a file name or a list of file names");
  }
  root.remove("include");
  const auto slash = source.rfind('/');
  const std::string dir = slash == std::string::npos ? std::string() : source.substr(0, slash + 1);
  for (const auto& f : files) {
    const std::string path = !f.empty() && f[0] == '/' ? f : dir + f;
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ConfigError("config key include: file " + path + " cannot be read");
    std::stringstream ss;
    ss << in.rdbuf();
    YAML::Node part;
    try {
      part = YAML::Load(ss.str());
    } catch (const YAML::ParserException& e) {
      throw ConfigError("config " + path + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                        ": invalid YAML: " + e.msg);
    }
    if (!part || part.IsNull()) continue;
    if (!part.IsMap()) throw ConfigError("config " + path + ": the top level must be a mapping of sections");
    if (part["include"]) throw ConfigError("config " + path + ": include inside an included file is not supported");
    merge_into(root, part);
  }
}

}  // namespace

Config parse_config(const std::string& yaml_text, const std::string& source, const std::vector<std::string>& overrides,
                    const EnvLookup& env) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::ParserException& e) {
    throw ConfigError("config " + source + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                      ": invalid YAML: " + e.msg);
  }
  if (!root || root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  if (!root.IsMap()) throw ConfigError("config " + source + ": the top level must be a mapping of sections");
  apply_includes(root, source, env);
  for (const auto& o : overrides) apply_override(root, o);

  Config cfg;
  // Every section is parsed even after an error, so one run reports every mistake.
  std::vector<std::string> errors;
  auto collect = [&](auto&& parse_section) {
    try {
      parse_section();
    } catch (const ConfigError& e) {
      errors.emplace_back(e.what());
    }
  };
  Section top(root, "", env, cfg.warnings);
  cfg.version = top.string("version", "3");
  if (cfg.version != "3") {
    throw ConfigError("config key version: \"" + cfg.version + "\" is not supported; use version: \"3\" (the .rr.yaml v3 format)");
  }

  collect([&] {
    {
      Section s = top.section("server");
      cfg.server.command = s.command("command");
      cfg.server.env = s.env_map("env");
      cfg.server.relay = s.string("relay", "pipes");
      if (cfg.server.relay != "pipes") {
        throw ConfigError("config key server.relay: \"" + cfg.server.relay +
                          "\" is not supported yet; only \"pipes\" is (tcp:// and unix:// relays are planned)");
      }
      s.not_yet({"user", "group", "on_init", "relay_timeout"}, "planned");
      s.finish();
    }
  });

  collect([&] {
    if (top.has("http")) {
      Section s = top.section("http");
      cfg.http.enabled = true;
      const auto [host, port] = parse_address("http.address", s.string("address", "0.0.0.0:8080"));
      cfg.http.host = host;
      cfg.http.port = port;
      cfg.http.io_threads = static_cast<unsigned>(s.integer("io_threads", 1, 1, 256));
      cfg.http.max_request_size = static_cast<std::uint64_t>(s.integer("max_request_size", 1000, 1, 1 << 20)) * 1024 * 1024;
      cfg.http.max_header_size = static_cast<std::uint64_t>(s.integer("max_header_size", 64 * 1024, 1024, 16 << 20));
      cfg.http.internal_error_code = static_cast<int>(s.integer("internal_error_code", 500, 400, 599));
      cfg.http.raw_body = s.boolean("raw_body", false);
      cfg.http.uploads = read_uploads(s.section("uploads"));
      cfg.http.access_logs = s.boolean("access_logs", false);
      {
        const auto subnets = s.strings("trusted_subnets", {});
        for (std::size_t i = 0; i < subnets.size(); ++i) {
          cfg.http.trusted_subnets.push_back(parse_cidr(s.key_path("trusted_subnets") + "[" + std::to_string(i) + "]", subnets[i]));
        }
      }
      cfg.http.read_header_timeout = s.duration("read_header_timeout", std::chrono::seconds(10));
      cfg.http.read_timeout = s.duration("read_timeout", std::chrono::seconds(60));
      cfg.http.write_timeout = s.duration("write_timeout", std::chrono::seconds(60));
      cfg.http.idle_timeout = s.duration("idle_timeout", std::chrono::seconds(60));
      cfg.http.max_connections = static_cast<std::uint64_t>(s.integer("max_connections", 10000, 1, 10000000));
      cfg.http.pool = read_pool(s.section("pool"), true);
      if (s.has("static")) cfg.http.static_files = read_static(s.section("static"));
      if (s.has("gzip")) read_gzip(s.section("gzip"), cfg.http.gzip);
      read_middleware(s, cfg.http, cfg.warnings);
      s.not_yet({"ssl", "http2", "http3", "fcgi", "headers"}, "planned");
      s.finish();
      if (cfg.http.pool.command.empty() && cfg.server.command.empty()) {
        throw ConfigError("config key server.command is required (for example: server.command: \"php worker.php\")");
      }
      if (cfg.http.pool.debug) {
        cfg.http.pool.max_jobs = 1;
        cfg.http.pool.num_workers = 0;  // a fresh worker per request, spawned on demand
      }
    }
  });

  collect([&] {
    if (top.has("rpc")) {
      Section s = top.section("rpc");
      cfg.rpc.enabled = true;
      cfg.rpc.listen = s.string("listen", "tcp://127.0.0.1:6001");
      const bool tcp = cfg.rpc.listen.rfind("tcp://", 0) == 0;
      const bool unix_sock = cfg.rpc.listen.rfind("unix://", 0) == 0;
      if (!tcp && !unix_sock) {
        throw ConfigError("config key rpc.listen: \"" + cfg.rpc.listen +
                          "\" must be tcp://host:port (for example tcp://127.0.0.1:6001) or unix:///path/to.sock");
      }
      if (tcp) parse_address("rpc.listen", cfg.rpc.listen.substr(6));
      if (unix_sock && cfg.rpc.listen.size() <= 7) throw ConfigError("config key rpc.listen: unix:// needs a socket path");
      s.finish();
    }
  });

  collect([&] {
    if (top.has("status")) {
      Section s = top.section("status");
      cfg.status.enabled = true;
      const auto [host, port] = parse_address("status.address", s.string("address", "127.0.0.1:2114"));
      cfg.status.host = host;
      cfg.status.port = port;
      cfg.status.unavailable_status_code = static_cast<int>(s.integer("unavailable_status_code", 503, 100, 599));
      s.finish();
    }
  });

  // KV plugin (issue #5): storages are reached over RPC only.
  collect([&] {
    if (top.has("kv")) {
      cfg.kv = read_kv(top.section("kv"), cfg.warnings);
      if (!cfg.rpc.enabled) {
        cfg.warnings.push_back("config key kv: storages are reached over RPC only and there is no rpc section; "
                               "add rpc.listen (for example tcp://127.0.0.1:6001) or kv is not started");
      }
    }
  });

  // Metrics plugin (issue #5): Prometheus endpoint, request and worker metrics, app collectors.
  collect([&] {
    if (top.has("metrics")) {
      cfg.metrics = read_metrics(top.section("metrics"));
      if (!cfg.rpc.enabled && !cfg.metrics.collect.empty()) {
        cfg.warnings.push_back("config key metrics.collect: application collectors are fed over RPC (metrics.Add, ...) and there "
                               "is no rpc section; add rpc.listen (for example tcp://127.0.0.1:6001) or they stay at zero");
      }
    }
  });

  // Jobs plugin (issue #6), amqp driver: the broker of the amqp pipelines (RoadRunner's `amqp.addr`).
  collect([&] {
    if (top.has("amqp")) {
      Section s = top.section("amqp");
      cfg.amqp.enabled = true;
      cfg.amqp.addr = s.string("addr", cfg.amqp.addr);
      if (cfg.amqp.addr.rfind("amqp://", 0) != 0 || cfg.amqp.addr.size() <= 7) {
        throw ConfigError("config key amqp.addr: \"" + cfg.amqp.addr +
                          "\" must be an amqp:// URL, for example amqp://guest:guest@127.0.0.1:5672/ (amqps:// is not supported)");
      }
      s.not_yet({"tls"}, "TLS to the broker is not supported yet");
      s.finish();
    }
  });

  // Jobs plugin (issue #6): pipelines, consumers and the jobs worker pool.
  collect([&] {
    if (top.has("jobs")) {
      cfg.jobs = read_jobs(top.section("jobs"));
      if (cfg.jobs.pool.command.empty() && cfg.server.command.empty()) {
        throw ConfigError("config key server.command is required (or jobs.pool.command), for example: server.command: \"php worker.php\"");
      }
      if (!cfg.rpc.enabled) {
        cfg.warnings.push_back("config key jobs: jobs are pushed over RPC (jobs.Push) and there is no rpc section; "
                               "add rpc.listen (for example tcp://127.0.0.1:6001) to push jobs");
      }
    }
  });

  collect([&] {
    if (top.has("reload")) {
      Section s = top.section("reload");
      cfg.reload.enabled = true;
      cfg.reload.interval = s.duration("interval", std::chrono::seconds(1));
      if (cfg.reload.interval.count() < 10) throw ConfigError("config key reload.interval: must be at least 10ms (default 1s)");
      const std::vector<std::string> patterns = s.string_list("patterns", {".php"});
      Section plugins = s.section("plugins");
      for (const std::string& name : plugins.keys()) {
        if (name != "http") {
          throw ConfigError("config key reload.plugins." + name + ": no such plugin with workers; allowed: http");
        }
        Section p = plugins.section(name);
        ReloadTarget t;
        t.plugin = name;
        t.dirs = p.string_list("dirs", {"."});
        t.recursive = p.boolean("recursive", false);
        t.ignore = p.string_list("ignore", {});
        t.patterns = p.string_list("patterns", patterns);
        p.finish();
        cfg.reload.plugins.push_back(std::move(t));
      }
      plugins.finish();
      s.finish();
      if (cfg.reload.plugins.empty()) {
        throw ConfigError("config key reload.plugins: name at least one plugin to watch, for example reload.plugins.http.dirs: [\".\"]");
      }
    }
  });

  collect([&] {
    {
      Section s = top.section("logs");
      cfg.logs.mode = s.one_of("mode", "production", {"production", "development", "raw"});
      cfg.logs.level = s.one_of("level", cfg.logs.mode == "development" ? "debug" : "info",
                                {"debug", "info", "warn", "error", "panic", "fatal"});
      cfg.logs.encoding = s.one_of("encoding", "console", {"console", "json"});
      s.not_yet({"output", "err_output", "channels", "line_ending", "file_logger_options"}, "logs go to stderr");
      s.finish();
    }
  });

  collect([&] {
    top.not_yet({"service", "grpc", "tcp", "temporal", "centrifuge",
                 "otel", "endure", "include", "env", "redis", "headers", "gzip", "static"},
                "section not implemented yet");
  });
  collect([&] { top.finish(); });
  if (!errors.empty()) {
    std::string all;
    for (const auto& e : errors) all += (all.empty() ? "" : "\n") + e;
    throw ConfigError(all);
  }
  cfg.json = yaml_to_json(root, env).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (!cfg.http.enabled) {
    throw ConfigError("config has no http section: nothing to serve (add http.address and server.command)");
  }
  return cfg;
}

Config load_config(const std::string& path, const std::vector<std::string>& overrides, const EnvLookup& env) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError("config file " + path + " cannot be read (use -c FILE)");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_config(ss.str(), path, overrides, env);
}

}  // namespace pivot::config
