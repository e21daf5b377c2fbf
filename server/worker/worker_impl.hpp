#pragma once

#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>

namespace pivot::worker {

template <class OnLine>
asio::awaitable<void> Worker::pump_stderr(OnLine on_line) {
  constexpr std::size_t kMaxLine = 8192;
  std::string pending;
  char buf[4096];
  for (;;) {
    auto [ec, n] = co_await stderr_.async_read_some(asio::buffer(buf), asio::experimental::as_tuple(asio::use_awaitable));
    if (ec) break;
    pending.append(buf, n);
    std::size_t start = 0;
    for (;;) {
      const std::size_t nl = pending.find('\n', start);
      if (nl == std::string::npos) break;
      std::size_t end = nl;
      if (end > start && pending[end - 1] == '\r') --end;
      on_line(std::string_view(pending).substr(start, end - start));
      start = nl + 1;
    }
    pending.erase(0, start);
    while (pending.size() > kMaxLine) {
      on_line(std::string_view(pending).substr(0, kMaxLine));
      pending.erase(0, kMaxLine);
    }
  }
  if (!pending.empty()) on_line(std::string_view(pending));
}

}  // namespace pivot::worker
