#include "server/plugins/kv/kv_service.hpp"

#include <algorithm>
#include <cctype>
#include <unordered_set>
#include <vector>

#include "protocol/rpc_frame.hpp"
#include "server/plugins/kv/kv_codec.hpp"
#include "server/plugins/kv/kv_error.hpp"
#include "server/plugins/kv/memory_storage.hpp"
#include "server/plugins/kv/redis_storage.hpp"
#include "server/plugins/kv/rfc3339.hpp"

namespace pivot::kv {
namespace {

namespace kvpb = ::kv::v1;

/// RoadRunner's op names (kv rpc.go; "rcp_delete" for Delete and Clear is Go's spelling) and
/// the driver method names that follow a driver's op prefix.
struct MethodNames {
  const char* rpc_name;   // "kv.MGet"
  const char* rpc_op;     // "rpc_mget"
  const char* driver_op;  // "mget" -> "in_memory_plugin_mget"
};

constexpr MethodNames kNames[] = {
    {"kv.Has", "rpc_has", "has"},       {"kv.Set", "rpc_set", "set"},       {"kv.MGet", "rpc_mget", "mget"},
    {"kv.MExpire", "rpc_mexpire", "mexpire"}, {"kv.TTL", "rpc_ttl", "ttl"}, {"kv.Delete", "rcp_delete", "delete"},
    {"kv.Clear", "rcp_delete", "clear"},
};

bool blank(const std::string& key) {
  return std::all_of(key.begin(), key.end(), [](unsigned char c) { return std::isspace(c) != 0; });
}

/// `found`'s keys once each (Go builds its replies from a map).
template <class T, class KeyOf>
std::vector<const T*> unique_by_key(const std::vector<T>& found, KeyOf key_of) {
  std::unordered_set<std::string_view> seen;
  std::vector<const T*> out;
  out.reserve(found.size());
  for (const auto& f : found) {
    if (seen.insert(key_of(f)).second) out.push_back(&f);
  }
  return out;
}

std::vector<std::string> keys_of(kvpb::Request& req) {
  std::vector<std::string> keys;
  keys.reserve(static_cast<std::size_t>(req.items_size()));
  for (auto& item : *req.mutable_items()) keys.push_back(std::move(*item.mutable_key()));
  return keys;
}

}  // namespace

KvService::KvService(asio::io_context& io, const config::KvConfig& cfg, std::shared_ptr<spdlog::logger> log)
    : log_(std::move(log)) {
  for (const auto& s : cfg.storages) {
    if (s.driver == "memory") {
      storages_[s.name] = std::make_unique<MemoryStorage>(io, s.name, s.memory.interval, log_);
      log_->info("event=kv_storage storage={} driver=memory sweep_interval_ms={}", s.name, s.memory.interval.count());
    } else {
      storages_[s.name] = std::make_unique<RedisStorage>(s.name, s.redis, log_);
      log_->info("event=kv_storage storage={} driver=redis address={}:{} db={} prefix=\"{}\" pool_size={}", s.name,
                 s.redis.host, s.redis.port, s.redis.db, s.redis.prefix, s.redis.pool_size);
    }
  }
}

KvService::~KvService() = default;

void KvService::register_methods(core::RpcRegistry& registry) {
  for (Method m : {Method::has, Method::set, Method::mget, Method::mexpire, Method::ttl, Method::remove, Method::clear}) {
    registry.add(kNames[static_cast<int>(m)].rpc_name, [this, m](const core::RpcCall& c) { return handle(m, c); });
  }
}

void KvService::start() {
  for (auto& [name, s] : storages_) s->start();
}

void KvService::stop() {
  for (auto& [name, s] : storages_) s->stop();
}

asio::awaitable<core::RpcResult> KvService::handle(Method method, const core::RpcCall& call) {
  const MethodNames& names = kNames[static_cast<int>(method)];
  const std::uint8_t codec = protocol::rpc_codec(call.flags);
  kvpb::Request req;
  std::string error;
  if (!codec::decode_request(codec, call.body, req, error)) {
    co_return core::RpcResult::fail(std::string(names.rpc_op) + ": " + error);
  }
  if (req.storage().empty()) co_return core::RpcResult::fail(std::string(names.rpc_op) + ": no storage provided");
  const auto it = storages_.find(req.storage());
  if (it == storages_.end()) {
    co_return core::RpcResult::fail(std::string(names.rpc_op) + ": no such storage: " + req.storage());
  }
  Storage& storage = *it->second;
  // Driver errors nest under the RPC op, as Go's errors.E prints them.
  const auto driver_fail = [&](const std::string& message) {
    log_->debug("event=kv_call_failed storage={} method={} error=\"{}\"", req.storage(), names.rpc_name, message);
    return core::RpcResult::fail(std::string(names.rpc_op) + ":\n\t" + std::string(storage.op_prefix()) + names.driver_op +
                                 ": " + message);
  };
  if (method != Method::clear) {
    for (const auto& item : req.items()) {
      if (blank(item.key())) co_return driver_fail(make_error_code(KvError::empty_key).message());
    }
  }

  kvpb::Response resp;
  OpStatus status;
  switch (method) {
    case Method::has: {
      const auto keys = keys_of(req);
      std::vector<std::string> found;
      if (!keys.empty()) status = co_await storage.has(keys, found);
      for (const auto* k : unique_by_key(found, [](const std::string& s) { return std::string_view(s); })) {
        resp.add_items()->set_key(*k);
      }
      break;
    }
    case Method::set:
    case Method::mexpire: {
      std::vector<Item> items;
      items.reserve(static_cast<std::size_t>(req.items_size()));
      for (auto& in : *req.mutable_items()) {
        Item item{std::move(*in.mutable_key()), method == Method::set ? std::move(*in.mutable_value()) : std::string(), std::nullopt};
        if (in.timeout().empty()) {
          if (method == Method::mexpire) co_return driver_fail(make_error_code(KvError::no_timeout).message());
        } else {
          TimePoint t;
          if (!rfc3339::parse(in.timeout(), t)) {
            co_return driver_fail(make_error_code(KvError::bad_timeout).message() + ": parsing time \"" + in.timeout() +
                                  "\" as \"2006-01-02T15:04:05Z07:00\"");
          }
          item.expires = t;
        }
        items.push_back(std::move(item));
      }
      if (items.empty()) break;
      if (method == Method::set) {
        status = co_await storage.set(items);
      } else {
        status = co_await storage.mexpire(items);
      }
      break;
    }
    case Method::mget:
    case Method::ttl: {
      const auto keys = keys_of(req);
      std::vector<Item> found;
      if (!keys.empty() && method == Method::mget) status = co_await storage.mget(keys, found);
      if (!keys.empty() && method == Method::ttl) status = co_await storage.ttl(keys, found);
      for (const auto* f : unique_by_key(found, [](const Item& i) { return std::string_view(i.key); })) {
        auto* out = resp.add_items();
        out->set_key(f->key);
        if (method == Method::mget) out->set_value(f->value);
        if (method == Method::ttl && f->expires) out->set_timeout(rfc3339::format(*f->expires));
      }
      break;
    }
    case Method::remove: {
      const auto keys = keys_of(req);
      if (!keys.empty()) status = co_await storage.remove(keys);
      break;
    }
    case Method::clear:
      status = co_await storage.clear();
      break;
  }
  if (!status.ok()) co_return driver_fail(status.message());
  co_return core::RpcResult::reply(codec::encode_response(codec, resp), codec);
}

}  // namespace pivot::kv
