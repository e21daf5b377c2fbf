#include "server/plugins/kv/memory_storage.hpp"

#include <asio/dispatch.hpp>


namespace pivot::kv {

MemoryStorage::MemoryStorage(asio::io_context& io, std::string name, std::chrono::milliseconds sweep_interval,
                             std::shared_ptr<spdlog::logger> log, Now now)
    : name_(std::move(name)),
      interval_(sweep_interval),
      log_(std::move(log)),
      now_(std::move(now)),
      strand_(asio::make_strand(io)),
      timer_(strand_) {}

void MemoryStorage::start() {
  asio::dispatch(strand_, [this] {
    stopped_ = false;
    arm_timer();
  });
}

void MemoryStorage::stop() {
  asio::dispatch(strand_, [this] {
    stopped_ = true;
    timer_.cancel();
  });
}

void MemoryStorage::arm_timer() {
  timer_.expires_after(interval_);
  timer_.async_wait([this](std::error_code ec) {
    if (ec || stopped_) return;
    const std::size_t n = sweep_now();
    if (n > 0) log_->debug("event=kv_sweep storage={} expired={}", name_, n);
    arm_timer();
  });
}

MemoryStorage::Entry* MemoryStorage::find_live(const std::string& key, TimePoint now) {
  const auto it = map_.find(key);
  if (it == map_.end()) return nullptr;
  if (it->second.expires && *it->second.expires <= now) {
    erase(it);  // expired but not swept yet: never visible
    return nullptr;
  }
  return &it->second;
}

void MemoryStorage::erase(Map::iterator it) {
  if (it->second.expires) expiry_.erase({*it->second.expires, std::string_view(it->first)});
  map_.erase(it);
}

void MemoryStorage::set_expiry(Map::iterator it, std::optional<TimePoint> expires) {
  if (it->second.expires) expiry_.erase({*it->second.expires, std::string_view(it->first)});
  it->second.expires = expires;
  if (expires) expiry_.emplace(*expires, std::string_view(it->first));
}

void MemoryStorage::has_now(const std::vector<std::string>& keys, std::vector<std::string>& found) {
  const auto now = now_();
  std::lock_guard lock(mu_);
  for (const auto& k : keys) {
    if (find_live(k, now)) found.push_back(k);
  }
}

void MemoryStorage::set_now(const std::vector<Item>& items) {
  const auto now = now_();
  std::lock_guard lock(mu_);
  for (const auto& item : items) {
    auto it = map_.find(item.key);
    if (item.expires && *item.expires <= now) {
      if (it != map_.end()) erase(it);
      continue;
    }
    if (it == map_.end()) it = map_.emplace(item.key, Entry{}).first;
    it->second.value = item.value;
    set_expiry(it, item.expires);
  }
}

void MemoryStorage::mget_now(const std::vector<std::string>& keys, std::vector<Item>& found) {
  const auto now = now_();
  std::lock_guard lock(mu_);
  for (const auto& k : keys) {
    if (const Entry* e = find_live(k, now)) found.push_back(Item{k, e->value, std::nullopt});
  }
}

void MemoryStorage::mexpire_now(const std::vector<Item>& items) {
  const auto now = now_();
  std::lock_guard lock(mu_);
  for (const auto& item : items) {
    if (!find_live(item.key, now)) continue;  // RoadRunner's memory driver would create an empty key here
    const auto it = map_.find(item.key);
    if (item.expires && *item.expires <= now) {
      erase(it);
    } else {
      set_expiry(it, item.expires);
    }
  }
}

void MemoryStorage::ttl_now(const std::vector<std::string>& keys, std::vector<Item>& found) {
  const auto now = now_();
  std::lock_guard lock(mu_);
  for (const auto& k : keys) {
    if (const Entry* e = find_live(k, now)) found.push_back(Item{k, {}, e->expires});
  }
}

void MemoryStorage::remove_now(const std::vector<std::string>& keys) {
  std::lock_guard lock(mu_);
  for (const auto& k : keys) {
    const auto it = map_.find(k);
    if (it != map_.end()) erase(it);
  }
}

void MemoryStorage::clear_now() {
  std::lock_guard lock(mu_);
  expiry_.clear();
  map_.clear();
}

std::size_t MemoryStorage::sweep_now() {
  const auto now = now_();
  std::lock_guard lock(mu_);
  std::size_t n = 0;
  while (!expiry_.empty() && expiry_.begin()->first <= now) {
    const auto node = expiry_.extract(expiry_.begin());
    const auto it = map_.find(std::string(node.value().second));
    if (it != map_.end()) {
      it->second.expires.reset();  // its index entry is already gone
      map_.erase(it);
      ++n;
    }
  }
  return n;
}

std::size_t MemoryStorage::size() const {
  std::lock_guard lock(mu_);
  return map_.size();
}

asio::awaitable<OpStatus> MemoryStorage::has(const std::vector<std::string>& keys, std::vector<std::string>& found) {
  has_now(keys, found);
  co_return OpStatus{};
}

asio::awaitable<OpStatus> MemoryStorage::set(const std::vector<Item>& items) {
  set_now(items);
  co_return OpStatus{};
}

asio::awaitable<OpStatus> MemoryStorage::mget(const std::vector<std::string>& keys, std::vector<Item>& found) {
  mget_now(keys, found);
  co_return OpStatus{};
}

asio::awaitable<OpStatus> MemoryStorage::mexpire(const std::vector<Item>& items) {
  mexpire_now(items);
  co_return OpStatus{};
}

asio::awaitable<OpStatus> MemoryStorage::ttl(const std::vector<std::string>& keys, std::vector<Item>& found) {
  ttl_now(keys, found);
  co_return OpStatus{};
}

asio::awaitable<OpStatus> MemoryStorage::remove(const std::vector<std::string>& keys) {
  remove_now(keys);
  co_return OpStatus{};
}

asio::awaitable<OpStatus> MemoryStorage::clear() {
  clear_now();
  co_return OpStatus{};
}

}  // namespace pivot::kv
