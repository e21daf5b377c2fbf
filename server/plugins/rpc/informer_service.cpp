#include "server/plugins/rpc/informer_service.hpp"

#include <cmath>

#include "server/plugins/rpc/rpc_args.hpp"

namespace pivot::rpc {

InformerService::InformerService(std::vector<std::reference_wrapper<pool::Pool>> pools) : pools_(std::move(pools)) {}

void InformerService::register_methods(core::RpcRegistry& registry) {
  registry.add("informer.List", [this](const core::RpcCall& c) { return list(c); });
  registry.add("informer.Workers", [this](const core::RpcCall& c) { return workers(c); });
  registry.add("informer.Jobs", [this](const core::RpcCall& c) { return jobs(c); });
  registry.add("informer.AddWorker", [this](const core::RpcCall& c) { return scale(c); });
  registry.add("informer.RemoveWorker", [this](const core::RpcCall& c) { return scale(c); });
}

pool::Pool* InformerService::find(const std::string& name) const {
  for (auto& p : pools_) {
    if (p.get().name() == name) return &p.get();
  }
  return nullptr;
}

asio::awaitable<core::RpcResult> InformerService::list(const core::RpcCall& call) {
  bool ignored = false;
  std::string error;
  if (!args::decode_bool(call, ignored, error)) co_return core::RpcResult::fail(std::move(error));
  auto names = nlohmann::ordered_json::array();
  for (auto& p : pools_) names.push_back(p.get().name());
  co_return args::json_reply(call, names);
}

asio::awaitable<core::RpcResult> InformerService::workers(const core::RpcCall& call) {
  std::string plugin, error;
  if (!args::decode_string(call, plugin, error)) co_return core::RpcResult::fail(std::move(error));
  pool::Pool* p = find(plugin);
  nlohmann::ordered_json reply;
  if (!p) {
    reply["workers"] = nullptr;  // RoadRunner: an unknown plugin is not an error
    co_return args::json_reply(call, reply);
  }
  auto list = nlohmann::ordered_json::array();
  for (const pool::WorkerInfo& w : co_await p->workers()) {
    // Key names and order of RoadRunner's process.State (protocol doc §5.5).
    nlohmann::ordered_json j;
    j["pid"] = w.pid;
    j["status"] = w.status;
    j["numExecs"] = w.num_execs;
    j["created"] = w.created_unix_ns;
    j["memoryUsage"] = w.memory_rss;
    // Go prints a whole float64 without a fraction ("0", not "0.0").
    if (std::isfinite(w.cpu_percent) && w.cpu_percent == std::floor(w.cpu_percent) && std::fabs(w.cpu_percent) < 1e15) {
      j["CPUPercent"] = static_cast<std::int64_t>(w.cpu_percent);
    } else {
      j["CPUPercent"] = std::isfinite(w.cpu_percent) ? w.cpu_percent : 0.0;
    }
    j["command"] = w.command;
    j["statusStr"] = w.status_str;
    list.push_back(std::move(j));
  }
  reply["workers"] = std::move(list);
  co_return args::json_reply(call, reply);
}

asio::awaitable<core::RpcResult> InformerService::jobs(const core::RpcCall& call) {
  // RoadRunner answers nil (JSON null) for a plugin without pipelines. `rr workers` calls this
  // for every plugin, so it must exist.
  std::string plugin, error;
  if (!args::decode_string(call, plugin, error)) co_return core::RpcResult::fail(std::move(error));
  if (!jobs_source_) co_return args::json_reply(call, nullptr);
  co_return args::json_reply(call, co_await jobs_source_(plugin));
}

asio::awaitable<core::RpcResult> InformerService::scale(const core::RpcCall& call) {
  std::string plugin, error;
  if (!args::decode_string(call, plugin, error)) co_return core::RpcResult::fail(std::move(error));
  co_return core::RpcResult::fail("plugin " + plugin + " does not support workers management");
}

}  // namespace pivot::rpc
