#include "server/plugins/rpc/resetter_service.hpp"

#include <chrono>

#include "server/plugins/rpc/rpc_args.hpp"

namespace pivot::rpc {

ResetterService::ResetterService(std::vector<std::reference_wrapper<pool::Pool>> pools, std::shared_ptr<spdlog::logger> log)
    : pools_(std::move(pools)), log_(std::move(log)) {}

void ResetterService::register_methods(core::RpcRegistry& registry) {
  registry.add("resetter.List", [this](const core::RpcCall& c) { return list(c); });
  registry.add("resetter.Reset", [this](const core::RpcCall& c) { return reset(c); });
}

asio::awaitable<core::RpcResult> ResetterService::list(const core::RpcCall& call) {
  bool ignored = false;
  std::string error;
  if (!args::decode_bool(call, ignored, error)) co_return core::RpcResult::fail(std::move(error));
  auto names = nlohmann::ordered_json::array();
  for (auto& p : pools_) names.push_back(p.get().name());
  co_return args::json_reply(call, names);
}

asio::awaitable<core::RpcResult> ResetterService::reset(const core::RpcCall& call) {
  std::string plugin, error;
  if (!args::decode_string(call, plugin, error)) co_return core::RpcResult::fail(std::move(error));
  pool::Pool* target = nullptr;
  for (auto& p : pools_) {
    if (p.get().name() == plugin) target = &p.get();
  }
  if (!target) co_return core::RpcResult::fail("no such plugin: " + plugin);  // RoadRunner's text
  log_->info("event=rpc_reset_begin plugin={}", plugin);
  const auto t0 = std::chrono::steady_clock::now();
  const bool ok = co_await target->reset();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  if (!ok) {
    log_->warn("event=rpc_reset_failed plugin={} duration_ms={}", plugin, ms);
    co_return core::RpcResult::fail("resetter: reset of " + plugin +
                                    " did not finish within reset_timeout (or the server is stopping)");
  }
  log_->info("event=rpc_reset_done plugin={} duration_ms={}", plugin, ms);
  co_return args::json_reply(call, true);
}

}  // namespace pivot::rpc
