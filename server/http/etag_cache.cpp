#include "server/http/etag_cache.hpp"

namespace pivot::http {

std::optional<std::uint32_t> EtagCache::find(std::string_view path, const FileVersion& v) const {
  std::lock_guard lock(mu_);
  const auto it = entries_.find(std::string(path));
  if (it == entries_.end() || !(it->second.version == v)) return std::nullopt;
  return it->second.crc;
}

void EtagCache::store(std::string_view path, const FileVersion& v, std::uint32_t crc) {
  std::lock_guard lock(mu_);
  if (entries_.size() >= capacity_ && entries_.find(std::string(path)) == entries_.end()) entries_.clear();
  entries_[std::string(path)] = Entry{v, crc};
}

}  // namespace pivot::http
