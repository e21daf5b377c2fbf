#include "server/http/request_translator.hpp"

#include "protocol/frame.hpp"

namespace pivot::http {
namespace {

void append_without_crlf(std::string& out, std::string_view s) {
  for (char c : s) {
    if (c != '\r' && c != '\n') out.push_back(c);
  }
}

}  // namespace

void RequestTranslator::build_frame(std::string& frame, const HttpRequest& req, std::string_view remote_ip,
                                    std::string_view fallback_host) {
  RequestMeta meta;
  meta.remote_ip = remote_ip;
  meta.fallback_host = fallback_host;
  build_frame(frame, req, meta);
}

void RequestTranslator::build_frame(std::string& frame, const HttpRequest& req, const RequestMeta& meta) {
  // Full URL with scheme and host, CR/LF removed (as RoadRunner does).
  uri_.clear();
  std::string_view target = req.target;
  if (target.starts_with("http://") || target.starts_with("https://")) {
    append_without_crlf(uri_, target);
  } else {
    uri_.append(meta.https ? "https://" : "http://");
    append_without_crlf(uri_, req.host.empty() ? meta.fallback_host : std::string_view(req.host));
    if (!target.starts_with('/')) uri_.push_back('/');
    append_without_crlf(uri_, target == "*" ? std::string_view() : target);
  }
  std::string_view raw_query;
  if (const auto q = target.find('?'); q != std::string_view::npos) {
    raw_query = target.substr(q + 1);
    if (const auto hash = raw_query.find('#'); hash != std::string_view::npos) raw_query = raw_query.substr(0, hash);
  }
  cookies_.clear();
  for (const auto& h : req.headers) {
    if (h.name == "Cookie") protocol::parse_cookie_header(h.value, cookies_);
  }
  protocol::HttpRequestContext ctx;
  ctx.remote_addr = meta.remote_ip;
  ctx.protocol = req.version_minor == 0 ? std::string_view("HTTP/1.0") : std::string_view("HTTP/1.1");
  ctx.method = req.method;
  ctx.uri = uri_;
  ctx.raw_query = raw_query;
  ctx.headers = req.headers;
  ctx.extra_headers = meta.extra_headers;
  ctx.cookies = cookies_;
  ctx.parsed = meta.parsed;
  ctx.uploads_json = meta.uploads_json;

  protocol::DataFrameBuilder::begin(frame);
  protocol::append_request_context(frame, ctx);
  const auto context_len = static_cast<std::uint32_t>(frame.size() - protocol::DataFrameBuilder::kReserved);
  // HEAD and OPTIONS bodies are not passed to PHP (RoadRunner does not read them either).
  if (meta.parsed) {
    frame.append(meta.form_body);
  } else if (req.method != "HEAD" && req.method != "OPTIONS") {
    frame.append(req.body);
  }
  protocol::DataFrameBuilder::finish(frame, protocol::flags::kCodecJson, context_len);
}

}  // namespace pivot::http
