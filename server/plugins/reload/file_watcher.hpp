#pragma once

#include <spdlog/logger.h>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "server/config/config.hpp"

namespace pivot::reload {

/// Watches a plugin's directories with inotify and calls `on_change` once per burst of changes
/// to matching files (debounced by `reload.interval`), for hot reload in development. All state
/// lives on the watcher's own strand.
class FileWatcher {
 public:
  /// Called with one of the changed files after a quiet `interval`.
  using OnChange = std::function<void(const std::string& file)>;

  /// Nothing is watched until `start()`.
  FileWatcher(asio::io_context& io, config::Duration interval, config::ReloadTarget target, OnChange on_change,
              std::shared_ptr<spdlog::logger> log);
  ~FileWatcher();
  FileWatcher(const FileWatcher&) = delete;
  FileWatcher& operator=(const FileWatcher&) = delete;

  /// Creates the inotify instance and the watches (throws std::system_error: control path).
  void start();
  /// Stops watching. Thread-safe.
  void stop();
  /// Number of directories watched (for logs and tests).
  std::size_t watched_dirs() const noexcept { return dirs_.size(); }

 private:
  asio::awaitable<void> read_loop();
  void drain_events();
  void add_tree(const std::string& dir);
  bool ignored(const std::string& path) const;
  bool matches(const std::string& name) const;
  void changed(const std::string& path);

  asio::strand<asio::io_context::executor_type> strand_;
  config::Duration interval_;
  config::ReloadTarget target_;
  OnChange on_change_;
  std::shared_ptr<spdlog::logger> log_;
  asio::posix::stream_descriptor inotify_;
  asio::steady_timer debounce_;
  std::unordered_map<int, std::string> dirs_;  // watch descriptor -> directory
  std::string last_file_;
  bool pending_ = false;
};

}  // namespace pivot::reload
