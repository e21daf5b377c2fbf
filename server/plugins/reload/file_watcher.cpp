#include "server/plugins/reload/file_watcher.hpp"

#include <sys/inotify.h>
#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <cstring>
#include <vector>
#include <filesystem>
#include <system_error>

namespace pivot::reload {
namespace {

constexpr auto kTuple = asio::experimental::as_tuple(asio::use_awaitable);
constexpr std::uint32_t kMask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE;

}  // namespace

FileWatcher::FileWatcher(asio::io_context& io, config::Duration interval, config::ReloadTarget target, OnChange on_change,
                         std::shared_ptr<spdlog::logger> log)
    : strand_(asio::make_strand(io)),
      interval_(interval),
      target_(std::move(target)),
      on_change_(std::move(on_change)),
      log_(std::move(log)),
      inotify_(strand_),
      debounce_(strand_) {}

FileWatcher::~FileWatcher() = default;

void FileWatcher::start() {
  const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "reload: inotify_init1");
  inotify_.assign(fd);
  for (const auto& d : target_.dirs) add_tree(d);
  log_->info("event=reload_watching plugin={} dirs={} recursive={}", target_.plugin, dirs_.size(), target_.recursive);
  asio::co_spawn(strand_, read_loop(), asio::detached);
}

void FileWatcher::stop() {
  asio::post(strand_, [this] {
    std::error_code ec;
    debounce_.cancel();
    inotify_.close(ec);
  });
}

void FileWatcher::add_tree(const std::string& dir) {
  if (ignored(dir)) return;
  const int wd = ::inotify_add_watch(inotify_.native_handle(), dir.c_str(), kMask | IN_ONLYDIR);
  if (wd < 0) {
    log_->warn("event=reload_watch_failed dir=\"{}\" error=\"{}\"", dir, std::generic_category().message(errno));
    return;
  }
  dirs_[wd] = dir;
  if (!target_.recursive) return;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_directory(ec) && !it->is_symlink(ec)) add_tree(it->path().string());
  }
}

bool FileWatcher::ignored(const std::string& path) const {
  for (const auto& part : std::filesystem::path(path)) {
    const std::string p = part.string();
    if (std::find(target_.ignore.begin(), target_.ignore.end(), p) != target_.ignore.end()) return true;
  }
  return false;
}

bool FileWatcher::matches(const std::string& name) const {
  if (target_.patterns.empty()) return true;
  return std::any_of(target_.patterns.begin(), target_.patterns.end(), [&](const std::string& suffix) {
    return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  });
}

asio::awaitable<void> FileWatcher::read_loop() {
  for (;;) {
    auto [ec] = co_await inotify_.async_wait(asio::posix::stream_descriptor::wait_read, kTuple);
    if (ec) co_return;
    drain_events();
  }
}

void FileWatcher::drain_events() {
  // A plain function, not part of the coroutine: inotify_event has a flexible array member and
  // must not live in a coroutine frame; the buffer is aligned for it.
  alignas(inotify_event) char buf[16 * 1024];
  for (;;) {
    const ssize_t n = ::read(inotify_.native_handle(), buf, sizeof buf);
    if (n <= 0) return;
    for (ssize_t off = 0; off < n;) {
      const auto* ev = reinterpret_cast<const inotify_event*>(buf + off);
      off += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
      if (ev->mask & IN_Q_OVERFLOW) {
        changed("(inotify queue overflow)");
        continue;
      }
      if (ev->mask & IN_IGNORED) {
        dirs_.erase(ev->wd);
        continue;
      }
      const auto it = dirs_.find(ev->wd);
      if (it == dirs_.end() || ev->len == 0) continue;
      const std::string name(ev->name, ::strnlen(ev->name, ev->len));
      const std::string path = it->second + "/" + name;
      if (ev->mask & IN_ISDIR) {
        if ((ev->mask & (IN_CREATE | IN_MOVED_TO)) && target_.recursive) add_tree(path);
        continue;
      }
      if (matches(name) && !ignored(path)) changed(path);
    }
  }
}

void FileWatcher::changed(const std::string& path) {
  last_file_ = path;
  if (!pending_) log_->debug("event=reload_change plugin={} file=\"{}\"", target_.plugin, path);
  pending_ = true;
  // Debounce: an editor's save or a `git checkout` is a burst of events; reset once it is quiet.
  debounce_.expires_after(interval_);
  debounce_.async_wait([this](std::error_code e) {
    if (e || !pending_) return;
    pending_ = false;
    log_->info("event=reload_triggered plugin={} file=\"{}\"", target_.plugin, last_file_);
    on_change_(last_file_);
  });
}

}  // namespace pivot::reload
