#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace pivot::http {

/// The identity of one version of a file: an ETag computed from its content stays valid while
/// all of these are unchanged.
struct FileVersion {
  std::uint64_t device = 0;    ///< st_dev
  std::uint64_t inode = 0;     ///< st_ino (a file replaced by rename gets a new one)
  std::uint64_t size = 0;      ///< st_size
  std::int64_t mtime_ns = 0;   ///< st_mtim in nanoseconds
  /// Field-wise equality.
  bool operator==(const FileVersion&) const = default;
};

/// CRC32s of static files by path, valid for one FileVersion each, so a file's content is read
/// for its ETag once per change, not per request. Bounded: when `capacity` entries are reached
/// the cache starts over. Thread-safe (sessions on several io threads share it).
class EtagCache {
 public:
  /// Holds at most `capacity` files.
  explicit EtagCache(std::size_t capacity = 4096) : capacity_(capacity) {}

  /// The CRC32 of `path` when it was computed for this very version.
  std::optional<std::uint32_t> find(std::string_view path, const FileVersion& v) const;
  /// Remembers the CRC32 of `path` at version `v`.
  void store(std::string_view path, const FileVersion& v, std::uint32_t crc);

 private:
  struct Entry {
    FileVersion version;
    std::uint32_t crc = 0;
  };
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
  std::size_t capacity_;
};

}  // namespace pivot::http
