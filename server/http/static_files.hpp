#pragma once

#include <ctime>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/http_payload.hpp"
#include "server/config/config.hpp"
#include "server/http/etag_cache.hpp"
#include "server/http/http_request.hpp"
#include "server/http/static_path.hpp"

namespace pivot::http {

/// An open static file; closes its descriptor when destroyed.
struct StaticFile {
  int fd = -1;                  ///< O_RDONLY descriptor, -1 when none
  FileVersion version;          ///< device, inode, size, mtime
  std::time_t mtime = 0;        ///< whole seconds, for Last-Modified
  std::int64_t mtime_nsec = 0;  ///< the nanoseconds part, for the weak ETag

  StaticFile() = default;
  ~StaticFile() { close(); }
  StaticFile(const StaticFile&) = delete;
  StaticFile& operator=(const StaticFile&) = delete;
  /// Closes the descriptor (idempotent).
  void close() noexcept;
};

/// http.static, shared read-only by every session: maps request targets to files below `dir`
/// (RoadRunner's static middleware rules), and remembers content ETags. Thread-safe.
class StaticFiles {
 public:
  /// What the static server makes of a request.
  enum class Verdict {
    fall_through,  ///< not a static file (method, extension, missing, a directory): PHP answers
    reject,        ///< an unsafe path or a symlink out of dir: answered 404, PHP never sees it
    serve,         ///< `file` is open and is a regular file below dir
  };

  /// Opens `cfg.dir`; throws std::system_error naming http.static.dir when it is not a readable
  /// directory (control path: at start).
  explicit StaticFiles(const config::StaticConfig& cfg);
  ~StaticFiles();
  StaticFiles(const StaticFiles&) = delete;
  StaticFiles& operator=(const StaticFiles&) = delete;

  /// Decides about `req` and opens the file when it is served. Only GET and HEAD are considered;
  /// then the path (see parse_static_path), forbid/allow on its extension (files without one are
  /// not static, as in RoadRunner), and finally the file itself: opened beneath dir, a regular
  /// file, and its real path (symlinks resolved) inside dir. `reason` says why for `reject`.
  Verdict open(const HttpRequest& req, StaticPath& path, StaticFile& file, std::string_view& reason) const;

  /// The request header `name` for static serving: the client's first value, else the
  /// http.static.request value (RoadRunner adds those to requests it serves); "" when neither.
  std::string_view request_header(const HttpRequest& req, std::string_view name) const noexcept;
  /// The http.static.response headers, set on every static response.
  std::span<const protocol::HeaderField> response_headers() const noexcept { return response_; }
  /// The settings.
  const config::StaticConfig& config() const noexcept { return cfg_; }
  /// Content CRC32s for strong ETags.
  EtagCache& etags() const noexcept { return etags_; }

 private:
  bool inside_root(int fd, const std::string& relative) const;

  config::StaticConfig cfg_;
  int root_fd_ = -1;
  std::string root_real_;  // realpath of dir, without a trailing '/' (unless it is "/")
  std::vector<protocol::HeaderField> request_;
  std::vector<protocol::HeaderField> response_;
  mutable EtagCache etags_;
};

}  // namespace pivot::http
