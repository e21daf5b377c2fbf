#include "server/plugins/rpc/rpc_service.hpp"

#include "protocol/frame.hpp"
#include "server/plugins/rpc/rpc_args.hpp"

namespace pivot::rpc {

RpcService::RpcService(std::string version, std::string config_json)
    : version_(std::move(version)), config_json_(std::move(config_json)) {}

void RpcService::register_methods(core::RpcRegistry& registry) {
  registry.add("rpc.Version", [this](const core::RpcCall& c) { return version(c); });
  registry.add("rpc.Config", [this](const core::RpcCall& c) { return config(c); });
}

asio::awaitable<core::RpcResult> RpcService::version(const core::RpcCall& call) {
  bool ignored = false;
  std::string error;
  if (!args::decode_bool(call, ignored, error)) co_return core::RpcResult::fail(std::move(error));
  if (args::reply_codec(call) == protocol::flags::kCodecRaw) {
    co_return core::RpcResult::reply(version_, protocol::flags::kCodecRaw);
  }
  co_return args::json_reply(call, version_);
}

asio::awaitable<core::RpcResult> RpcService::config(const core::RpcCall& call) {
  bool ignored = false;
  std::string error;
  if (!args::decode_bool(call, ignored, error)) co_return core::RpcResult::fail(std::move(error));
  // The reply is Go's []byte: the raw codec carries it as is, JSON as a base64 string.
  if (args::reply_codec(call) == protocol::flags::kCodecRaw) {
    co_return core::RpcResult::reply(config_json_, protocol::flags::kCodecRaw);
  }
  co_return args::json_reply(call, args::base64_encode(config_json_));
}

}  // namespace pivot::rpc
