#include "server/core/sd_notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace pivot::core {

SdNotifier::SdNotifier() {
  const char* sock = std::getenv("NOTIFY_SOCKET");
  if (sock && *sock && (sock[0] == '/' || sock[0] == '@') && std::strlen(sock) < sizeof(sockaddr_un::sun_path)) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ >= 0) path_ = sock;
  }
  // WATCHDOG_PID, when present, must name us (systemd sets it for the main process).
  const char* usec = std::getenv("WATCHDOG_USEC");
  const char* wpid = std::getenv("WATCHDOG_PID");
  if (usec && *usec && (!wpid || std::strtol(wpid, nullptr, 10) == ::getpid())) {
    const long long v = std::strtoll(usec, nullptr, 10);
    if (v > 0) watchdog_ = std::chrono::microseconds(v);
  }
}

SdNotifier::~SdNotifier() {
  if (fd_ >= 0) ::close(fd_);
}

bool SdNotifier::notify(std::string_view state) const noexcept {
  if (fd_ < 0) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path_.data(), path_.size());
  socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path_.size());
  if (addr.sun_path[0] == '@') {
    addr.sun_path[0] = '\0';  // abstract namespace
  } else {
    ++len;  // include the terminating NUL of a filesystem path
  }
  const ssize_t n = ::sendto(fd_, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&addr), len);
  return n == static_cast<ssize_t>(state.size());
}

}  // namespace pivot::core
