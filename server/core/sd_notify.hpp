#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace pivot::core {

/// systemd's notify protocol (sd_notify(3)) in a few lines of datagram code: READY=1,
/// RELOADING=1, STOPPING=1, WATCHDOG=1 and STATUS= go to $NOTIFY_SOCKET when it is set.
/// Reads the environment once, at construction; does nothing when not run under Type=notify.
/// Thread-safe (one sendto per call).
class SdNotifier {
 public:
  /// Captures NOTIFY_SOCKET and WATCHDOG_USEC / WATCHDOG_PID from the environment.
  SdNotifier();
  ~SdNotifier();
  SdNotifier(const SdNotifier&) = delete;
  SdNotifier& operator=(const SdNotifier&) = delete;

  /// True when a notify socket was given.
  bool enabled() const noexcept { return fd_ >= 0; }
  /// Sends `state` ("READY=1\nSTATUS=…"); false when disabled or the send failed.
  bool notify(std::string_view state) const noexcept;
  /// The watchdog interval systemd asked for (WatchdogSec), zero when none is set for us.
  std::chrono::microseconds watchdog_interval() const noexcept { return watchdog_; }
  /// The socket path, for logs ("" when disabled; abstract sockets start with '@').
  const std::string& socket_path() const noexcept { return path_; }

 private:
  int fd_ = -1;
  std::string path_;
  std::chrono::microseconds watchdog_{0};
};

}  // namespace pivot::core
