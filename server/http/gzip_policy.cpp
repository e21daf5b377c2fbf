#include "server/http/gzip_policy.hpp"

#include <algorithm>

#include "server/http/gzip_encoder.hpp"

namespace pivot::http {
namespace {

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return (x | 0x20) == (y | 0x20); });
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

/// Calls `fn(token)` for each comma-separated element of `value`, trimmed, skipping empty ones.
template <typename Fn>
void for_each_element(std::string_view value, Fn&& fn) {
  while (!value.empty()) {
    const auto comma = value.find(',');
    const std::string_view item = trim(value.substr(0, comma));
    if (!item.empty()) fn(item);
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
}

/// q of "gzip;q=0.5": false when it is zero ("0", "0.0", "0.000"), true otherwise or without q.
bool q_positive(std::string_view params) noexcept {
  while (!params.empty()) {
    const auto semi = params.find(';');
    const std::string_view p = trim(params.substr(0, semi));
    if (p.size() >= 2 && (p[0] | 0x20) == 'q' && p[1] == '=') {
      const std::string_view v = trim(p.substr(2));
      if (v.empty() || v[0] != '0') return true;
      return v.find_first_not_of("0.", 1) != std::string_view::npos;
    }
    if (semi == std::string_view::npos) break;
    params.remove_prefix(semi + 1);
  }
  return true;
}

const protocol::HeaderField* find(std::span<const protocol::HeaderField> headers, std::string_view name) noexcept {
  for (const auto& h : headers) {
    if (iequals(h.name, name)) return &h;
  }
  return nullptr;
}

}  // namespace

GzipPolicy::GzipPolicy(config::GzipConfig cfg) : cfg_(std::move(cfg)) {}

bool GzipPolicy::accepts_gzip(std::span<const protocol::HeaderField> request_headers) noexcept {
  int gzip = -1;  // -1 not named, 0 refused, 1 accepted
  int star = -1;
  for (const auto& h : request_headers) {
    if (!iequals(h.name, "Accept-Encoding")) continue;
    for_each_element(h.value, [&](std::string_view item) {
      const auto semi = item.find(';');
      const std::string_view coding = trim(item.substr(0, semi));
      const bool positive = semi == std::string_view::npos || q_positive(item.substr(semi + 1));
      if (iequals(coding, "gzip") || iequals(coding, "x-gzip")) {
        gzip = std::max(gzip, positive ? 1 : 0);
      } else if (coding == "*") {
        star = std::max(star, positive ? 1 : 0);
      }
    });
  }
  return gzip == 1 || (gzip == -1 && star == 1);
}

bool GzipPolicy::compressible_type(std::string_view content_type) const noexcept {
  std::string_view type = trim(content_type.substr(0, content_type.find(';')));
  if (type.empty()) return true;
  const auto slash = type.find('/');
  const std::string_view subtype = slash == std::string_view::npos ? std::string_view() : type.substr(slash + 1);
  const bool structured_text = subtype.ends_with("+xml") || subtype.ends_with("+json");
  for (const auto& ex : cfg_.exclude_types) {
    const std::string_view e(ex);
    if (e.ends_with("/*")) {
      if (!structured_text && slash != std::string_view::npos && iequals(type.substr(0, slash + 1), e.substr(0, e.size() - 1))) return false;
    } else if (iequals(type, e)) {
      return false;
    }
  }
  return true;
}

bool GzipPolicy::eligible(int status, std::span<const protocol::HeaderField> headers, std::size_t length) const noexcept {
  if (status < 200 || status == 204 || status == 206 || status == 304) return false;
  if (length < cfg_.min_length || length == 0) return false;
  bool no_transform = false;
  for (const auto& h : headers) {
    if (iequals(h.name, "Content-Encoding")) return false;
    if (iequals(h.name, "Cache-Control")) {
      for_each_element(h.value, [&](std::string_view d) { no_transform = no_transform || iequals(d, "no-transform"); });
    }
  }
  if (no_transform) return false;
  const auto* type = find(headers, "Content-Type");
  return compressible_type(type == nullptr ? std::string_view() : std::string_view(type->value));
}

bool GzipPolicy::compress_response(std::span<const protocol::HeaderField> request_headers, int status,
                                   std::vector<protocol::HeaderField>& headers, std::string_view body, std::string& out) const {
  if (!eligible(status, headers, body.size())) return false;
  add_vary(headers);
  if (!accepts_gzip(request_headers)) return false;
  out.clear();
  GzipEncoder enc(cfg_.level);
  if (enc.write(body, out, GzipEncoder::Flush::finish) || out.size() >= body.size()) return false;
  headers.push_back({"Content-Encoding", "gzip"});
  weaken_etag(headers);
  return true;
}

void GzipPolicy::add_vary(std::vector<protocol::HeaderField>& headers) {
  protocol::HeaderField* first = nullptr;
  for (auto& h : headers) {
    if (!iequals(h.name, "Vary")) continue;
    bool covered = false;
    for_each_element(h.value, [&](std::string_view v) { covered = covered || v == "*" || iequals(v, "Accept-Encoding"); });
    if (covered) return;
    if (first == nullptr) first = &h;
  }
  if (first == nullptr) {
    headers.push_back({"Vary", "Accept-Encoding"});
  } else {
    first->value.append(first->value.empty() ? "Accept-Encoding" : ", Accept-Encoding");
  }
}

void GzipPolicy::weaken_etag(std::vector<protocol::HeaderField>& headers) {
  for (auto& h : headers) {
    if (iequals(h.name, "ETag") && h.value.starts_with('"')) h.value.insert(0, "W/");
  }
}

}  // namespace pivot::http
