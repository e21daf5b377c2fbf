#include "server/http/static_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <system_error>

namespace pivot::http {
namespace {

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return (x | 0x20) == (y | 0x20); });
}

bool contains(const std::vector<std::string>& list, std::string_view v) { return std::find(list.begin(), list.end(), v) != list.end(); }

}  // namespace

void StaticFile::close() noexcept {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

StaticFiles::StaticFiles(const config::StaticConfig& cfg) : cfg_(cfg) {
  const std::string key = "config key http.static.dir: \"" + cfg_.dir + "\"";
  root_fd_ = ::open(cfg_.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root_fd_ < 0) throw std::system_error(errno, std::generic_category(), key + " must be a readable directory");
  char real[PATH_MAX];
  if (::realpath(cfg_.dir.c_str(), real) == nullptr) {
    const int e = errno;
    ::close(root_fd_);
    throw std::system_error(e, std::generic_category(), key + " cannot be resolved");
  }
  root_real_ = real;
  for (const auto& [k, v] : cfg_.request) request_.push_back({k, v});
  for (const auto& [k, v] : cfg_.response) response_.push_back({k, v});
}

StaticFiles::~StaticFiles() {
  if (root_fd_ >= 0) ::close(root_fd_);
}

std::string_view StaticFiles::request_header(const HttpRequest& req, std::string_view name) const noexcept {
  for (const auto& h : req.headers) {
    if (iequals(h.name, name)) return h.value;
  }
  for (const auto& h : request_) {
    if (iequals(h.name, name)) return h.value;
  }
  return {};
}

StaticFiles::Verdict StaticFiles::open(const HttpRequest& req, StaticPath& path, StaticFile& file, std::string_view& reason) const {
  file.close();
  if (req.method != "GET" && req.method != "HEAD") return Verdict::fall_through;
  if (!parse_static_path(req.target, path)) return Verdict::fall_through;
  // RoadRunner's order: files without an extension, forbidden ones and (with `allow`) unlisted
  // ones belong to PHP, whatever their path looks like.
  if (path.extension.empty() || contains(cfg_.forbid, path.extension)) return Verdict::fall_through;
  if (!cfg_.allow.empty() && !contains(cfg_.allow, path.extension)) return Verdict::fall_through;
  if (path.unsafe) {
    reason = "unsafe path (.., encoded slash, control byte or bad escape)";
    return Verdict::reject;
  }
  // O_NONBLOCK: opening a FIFO someone left in dir must not wait for a writer on the I/O thread.
  const int fd = ::openat(root_fd_, path.relative.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return Verdict::fall_through;  // missing, unreadable, a name too long: PHP's business
  file.fd = fd;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    file.close();
    return Verdict::fall_through;  // a directory (or a device, a FIFO) falls through, as in RoadRunner
  }
  if (!inside_root(fd, path.relative)) {
    file.close();
    reason = "resolves outside http.static.dir (symlink)";
    return Verdict::reject;
  }
  file.version = FileVersion{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino),
                             static_cast<std::uint64_t>(st.st_size),
                             static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
  file.mtime = st.st_mtim.tv_sec;
  file.mtime_nsec = st.st_mtim.tv_nsec;
  return Verdict::serve;
}

bool StaticFiles::inside_root(int fd, const std::string& relative) const {
  // The path the kernel actually opened (every symlink resolved, no race with a rename), from
  // /proc; realpath() of the name when /proc is not mounted.
  char real[PATH_MAX];
  const std::string link = "/proc/self/fd/" + std::to_string(fd);
  const ssize_t n = ::readlink(link.c_str(), real, sizeof real - 1);
  std::string_view resolved;
  if (n > 0) {
    resolved = std::string_view(real, static_cast<std::size_t>(n));
  } else {
    const std::string full = root_real_ + "/" + relative;
    if (::realpath(full.c_str(), real) == nullptr) return false;
    resolved = real;
  }
  if (root_real_ == "/") return true;
  return resolved.size() > root_real_.size() && resolved.starts_with(root_real_) && resolved[root_real_.size()] == '/';
}

}  // namespace pivot::http
