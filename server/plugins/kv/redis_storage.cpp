#include "server/plugins/kv/redis_storage.hpp"

#include <asio/co_spawn.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>

#include <exception>

#include "server/plugins/kv/kv_error.hpp"

namespace pivot::kv {
namespace {

using Commands = std::vector<std::vector<std::string>>;
using Replies = std::vector<RedisReply>;

/// The first error reply of a batch as a status (Redis answered, but said no).
OpStatus first_error(const Replies& replies) {
  for (const auto& r : replies) {
    if (r.type == RedisReply::Type::error) return {KvError::backend_error, r.str};
  }
  return {};
}

/// Milliseconds from `now` until `t`, rounded up so a key never expires early.
long long millis_until(TimePoint t, TimePoint now) {
  return std::chrono::ceil<std::chrono::milliseconds>(t - now).count();
}

/// `prefix` with the glob characters of SCAN MATCH escaped, then `*`.
std::string match_pattern(const std::string& prefix) {
  std::string out;
  for (char c : prefix) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out += '\\';
    out += c;
  }
  return out + "*";
}

}  // namespace

RedisStorage::RedisStorage(std::string name, const config::KvRedisConfig& cfg, std::shared_ptr<spdlog::logger> log)
    : name_(std::move(name)), prefix_(cfg.prefix), log_(std::move(log)), threads_(cfg.pool_size) {
  RedisConnection::Options o;
  o.host = cfg.host;
  o.port = cfg.port;
  o.username = cfg.username;
  o.password = cfg.password;
  o.db = cfg.db;
  o.dial_timeout = cfg.dial_timeout;
  o.read_timeout = cfg.read_timeout;
  o.write_timeout = cfg.write_timeout;
  for (unsigned i = 0; i < cfg.pool_size; ++i) {
    connections_.push_back(std::make_unique<RedisConnection>(o));
    idle_.push_back(connections_.back().get());
  }
}

RedisStorage::~RedisStorage() {
  stopping_ = true;
  threads_.join();  // lets queued and running operations finish; each is bounded by the timeouts
}

void RedisStorage::start() {
  asio::post(threads_, [this] {
    Replies replies;
    run_blocking([&](RedisConnection& c) { return c.execute({{"PING"}}, replies); });
  });
}

void RedisStorage::stop() { stopping_ = true; }

void RedisStorage::note_health(const OpStatus& st, const std::string& address) {
  const bool broken = st.code == make_error_code(KvError::unavailable) || st.code == make_error_code(KvError::timeout);
  if (broken) {
    if (health_.exchange(-1) != -1) {
      log_->warn("event=kv_redis_unavailable storage={} address={} error=\"{}\"", name_, address, st.message());
    }
  } else if (health_.exchange(1) != 1) {
    log_->info("event=kv_redis_available storage={} address={}", name_, address);
  }
}

OpStatus RedisStorage::run_blocking(const Job& job) {
  RedisConnection* conn = nullptr;
  {
    std::lock_guard lock(mu_);
    // Never empty: at most one job per thread and one connection per thread.
    if (idle_.empty()) return {KvError::overloaded, "no free Redis connection"};
    conn = idle_.back();
    idle_.pop_back();
  }
  OpStatus st;
  try {
    st = job(*conn);
  } catch (const std::exception& e) {
    st = {KvError::backend_error, e.what()};
  }
  note_health(st, conn->address());
  std::lock_guard lock(mu_);
  idle_.push_back(conn);
  return st;
}

asio::awaitable<OpStatus> RedisStorage::run(Job job) {
  if (stopping_) co_return OpStatus{KvError::stopping, {}};
  if (pending_.fetch_add(1) >= kMaxPending) {
    pending_.fetch_sub(1);
    co_return OpStatus{KvError::overloaded, std::to_string(kMaxPending) + " operations already waiting for Redis"};
  }
  // The job runs on a Redis thread; co_spawn's completion resumes us on our own executor.
  OpStatus st = co_await asio::co_spawn(
      threads_.get_executor(),
      [this, job = std::move(job)]() -> asio::awaitable<OpStatus> { co_return run_blocking(job); }, asio::use_awaitable);
  pending_.fetch_sub(1);
  co_return st;
}

asio::awaitable<OpStatus> RedisStorage::has(const std::vector<std::string>& keys, std::vector<std::string>& found) {
  Commands cmds;
  cmds.reserve(keys.size());
  for (const auto& k : keys) cmds.push_back({"EXISTS", key(k)});
  Replies replies;
  OpStatus st = co_await run([&](RedisConnection& c) { return c.execute(cmds, replies); });
  if (st.ok()) st = first_error(replies);
  if (!st.ok()) co_return st;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (replies[i].integer > 0) found.push_back(keys[i]);
  }
  co_return st;
}

asio::awaitable<OpStatus> RedisStorage::set(const std::vector<Item>& items) {
  const auto now = kv::now();
  Commands cmds;
  cmds.reserve(items.size());
  for (const auto& item : items) {
    if (!item.expires) {
      cmds.push_back({"SET", key(item.key), item.value});
      continue;
    }
    const long long ms = millis_until(*item.expires, now);
    if (ms <= 0) {
      cmds.push_back({"DEL", key(item.key)});
    } else {
      cmds.push_back({"SET", key(item.key), item.value, "PX", std::to_string(ms)});
    }
  }
  Replies replies;
  OpStatus st = co_await run([&](RedisConnection& c) { return c.execute(cmds, replies); });
  if (st.ok()) st = first_error(replies);
  co_return st;
}

asio::awaitable<OpStatus> RedisStorage::mget(const std::vector<std::string>& keys, std::vector<Item>& found) {
  Commands cmds(1);
  cmds[0].reserve(keys.size() + 1);
  cmds[0].push_back("MGET");
  for (const auto& k : keys) cmds[0].push_back(key(k));
  Replies replies;
  OpStatus st = co_await run([&](RedisConnection& c) { return c.execute(cmds, replies); });
  if (st.ok()) st = first_error(replies);
  if (!st.ok()) co_return st;
  const auto& values = replies[0].elements;
  if (replies[0].type != RedisReply::Type::array || values.size() != keys.size()) {
    co_return OpStatus{KvError::backend_error, "unexpected MGET reply"};
  }
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (values[i].type == RedisReply::Type::string) found.push_back(Item{keys[i], values[i].str, std::nullopt});
  }
  co_return st;
}

asio::awaitable<OpStatus> RedisStorage::mexpire(const std::vector<Item>& items) {
  const auto now = kv::now();
  Commands cmds;
  cmds.reserve(items.size());
  for (const auto& item : items) {
    const long long ms = item.expires ? millis_until(*item.expires, now) : 0;
    if (ms <= 0) {
      cmds.push_back({"DEL", key(item.key)});
    } else {
      cmds.push_back({"PEXPIRE", key(item.key), std::to_string(ms)});
    }
  }
  Replies replies;
  OpStatus st = co_await run([&](RedisConnection& c) { return c.execute(cmds, replies); });
  if (st.ok()) st = first_error(replies);
  co_return st;
}

asio::awaitable<OpStatus> RedisStorage::ttl(const std::vector<std::string>& keys, std::vector<Item>& found) {
  Commands cmds;
  cmds.reserve(keys.size());
  for (const auto& k : keys) cmds.push_back({"PTTL", key(k)});
  Replies replies;
  OpStatus st = co_await run([&](RedisConnection& c) { return c.execute(cmds, replies); });
  if (st.ok()) st = first_error(replies);
  if (!st.ok()) co_return st;
  const auto now = kv::now();
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const long long ms = replies[i].integer;
    if (ms == -2) continue;  // missing
    std::optional<TimePoint> expires;
    if (ms >= 0) expires = now + std::chrono::milliseconds(ms);
    found.push_back(Item{keys[i], {}, expires});
  }
  co_return st;
}

asio::awaitable<OpStatus> RedisStorage::remove(const std::vector<std::string>& keys) {
  Commands cmds(1);
  cmds[0].reserve(keys.size() + 1);
  cmds[0].push_back("DEL");
  for (const auto& k : keys) cmds[0].push_back(key(k));
  Replies replies;
  OpStatus st = co_await run([&](RedisConnection& c) { return c.execute(cmds, replies); });
  if (st.ok()) st = first_error(replies);
  co_return st;
}

asio::awaitable<OpStatus> RedisStorage::clear() {
  if (prefix_.empty()) {
    Replies replies;
    OpStatus st = co_await run([&](RedisConnection& c) { return c.execute({{"FLUSHDB"}}, replies); });
    if (st.ok()) st = first_error(replies);
    co_return st;
  }
  const std::string pattern = match_pattern(prefix_);
  co_return co_await run([&](RedisConnection& c) -> OpStatus {
    std::string cursor = "0";
    do {
      Replies r;
      if (OpStatus st = c.execute({{"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"}}, r); !st.ok()) return st;
      if (OpStatus st = first_error(r); !st.ok()) return st;
      if (r[0].type != RedisReply::Type::array || r[0].elements.size() != 2 ||
          r[0].elements[1].type != RedisReply::Type::array) {
        return {KvError::backend_error, "unexpected SCAN reply"};
      }
      cursor = r[0].elements[0].str;
      Commands del(1, {"DEL"});
      for (const auto& k : r[0].elements[1].elements) del[0].push_back(k.str);
      if (del[0].size() > 1) {
        if (OpStatus st = c.execute(del, r); !st.ok()) return st;
        if (OpStatus st = first_error(r); !st.ok()) return st;
      }
    } while (cursor != "0");
    return {};
  });
}

}  // namespace pivot::kv
