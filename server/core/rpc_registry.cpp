#include "server/core/rpc_registry.hpp"

#include <stdexcept>

namespace pivot::core {

void RpcRegistry::add(std::string method, Handler handler) {
  const auto dot = method.rfind('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == method.size()) {
    throw std::invalid_argument("rpc method \"" + method + "\" must be Service.Method");
  }
  if (!handler) throw std::invalid_argument("rpc method " + method + " has no handler");
  const std::string service = method.substr(0, dot);
  if (!methods_.emplace(std::move(method), std::move(handler)).second) {
    throw std::invalid_argument("rpc method registered twice");
  }
  ++services_[service];
}

const RpcRegistry::Handler* RpcRegistry::find(std::string_view method, std::string& error) const {
  // The texts and their order are Go net/rpc's (server.go readRequestHeader); the whole
  // "Service.Method" is quoted in each, and PHP clients substring-match them.
  const auto dot = method.rfind('.');
  if (dot == std::string_view::npos) {
    error = "rpc: service/method request ill-formed: " + std::string(method);
    return nullptr;
  }
  if (services_.find(method.substr(0, dot)) == services_.end()) {
    error = "rpc: can't find service " + std::string(method);
    return nullptr;
  }
  const auto it = methods_.find(method);
  if (it == methods_.end()) {
    error = "rpc: can't find method " + std::string(method);
    return nullptr;
  }
  return &it->second;
}

asio::awaitable<RpcResult> RpcRegistry::dispatch(const RpcCall& call) const {
  std::string error;
  const Handler* handler = find(call.method, error);
  if (!handler) co_return RpcResult::fail(std::move(error));
  co_return co_await (*handler)(call);
}

std::vector<std::string> RpcRegistry::methods() const {
  std::vector<std::string> out;
  out.reserve(methods_.size());
  for (const auto& [name, h] : methods_) out.push_back(name);
  return out;
}

}  // namespace pivot::core
