#include "server/plugins/status/status_server.hpp"

#include "protocol/json_writer.hpp"

namespace pivot::status {
namespace {

/// The values of `name` in a query string ("plugin=http&plugin=jobs").
std::vector<std::string> query_values(std::string_view query, std::string_view name) {
  std::vector<std::string> out;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name && eq + 1 < pair.size()) {
      out.emplace_back(pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return out;
}

}  // namespace

StatusServer::StatusServer(asio::io_context& io, const config::StatusConfig& cfg, std::vector<pool::Pool*> pools,
                           std::shared_ptr<spdlog::logger> log)
    : cfg_(cfg),
      pools_(std::move(pools)),
      endpoint_(io, "status", cfg_.host, cfg_.port, 0,
                [this](http::RequestParser::Status st, const http::RequestParser& parser) { return handle(st, parser); },
                std::move(log)) {}

StatusServer::~StatusServer() = default;

void StatusServer::start() { endpoint_.start(); }

asio::awaitable<http::ProbeEndpoint::Reply> StatusServer::handle(http::RequestParser::Status st, const http::RequestParser& parser) {
  http::ProbeEndpoint::Reply reply{400, "application/json", R"({"error":"bad request"})"};
  if (st == http::RequestParser::Status::complete) {
    const auto& req = parser.request();
    reply.body = co_await answer(req.method, req.target, reply.status);
  }
  co_return reply;
}

asio::awaitable<std::string> StatusServer::answer(const std::string& method, const std::string& target, int& status) {
  if (method != "GET" && method != "HEAD") {
    status = 405;
    co_return R"({"error":"use GET"})";
  }
  const auto q = target.find('?');
  const std::string path = target.substr(0, q);
  const std::string_view query = q == std::string::npos ? std::string_view{} : std::string_view(target).substr(q + 1);
  const bool health = path == "/health";
  if (!health && path != "/ready") {
    status = 404;
    co_return R"({"error":"unknown path; use /health?plugin=NAME or /ready?plugin=NAME"})";
  }
  std::vector<std::string> wanted = query_values(query, "plugin");
  std::vector<pool::Pool*> selected;
  if (wanted.empty()) {
    selected = pools_;
  } else {
    for (const auto& name : wanted) {
      pool::Pool* found = nullptr;
      for (auto* p : pools_) {
        if (p->name() == name) found = p;
      }
      if (!found) {
        status = 404;
        std::string err = R"({"error":)";
        protocol::append_json_string(err, "no such plugin: " + name);
        err += "}";
        co_return err;
      }
      selected.push_back(found);
    }
  }
  const bool draining = draining_.load();
  bool all_ok = true;
  std::string body = "{";
  for (auto* p : selected) {
    const pool::PoolStatus s = co_await p->status();
    const bool ok = health ? (s.ready + s.working) > 0 : (s.ready > 0 && !draining && !s.stopping_pool);
    all_ok = all_ok && ok;
    if (body.size() > 1) body += ",";
    protocol::append_json_string(body, p->name());
    body += ":{\"status\":" + std::to_string(ok ? 200 : cfg_.unavailable_status_code) + ",\"ready\":" + std::to_string(s.ready) +
            ",\"working\":" + std::to_string(s.working) + ",\"starting\":" + std::to_string(s.starting) +
            ",\"stopping\":" + std::to_string(s.stopping) + ",\"desired\":" + std::to_string(s.desired) +
            ",\"queued\":" + std::to_string(s.queued) + ",\"draining\":" + (draining || s.stopping_pool ? "true" : "false") + "}";
  }
  body += "}";
  status = all_ok ? 200 : cfg_.unavailable_status_code;
  co_return body;
}

}  // namespace pivot::status
