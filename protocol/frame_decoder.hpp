#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <system_error>

#include "protocol/frame.hpp"

namespace pivot::protocol {

/// Incremental goridge v3 frame decoder (sans-I/O): feed any split of bytes, get whole frames.
/// Verifies the header CRC, the version nibble, the header length and a maximum payload size.
class FrameDecoder {
 public:
  /// Creates a decoder that refuses payloads larger than `max_payload` bytes.
  explicit FrameDecoder(std::size_t max_payload) noexcept : max_payload_(max_payload) {}

  /// Consumes bytes from `data` and returns how many were used. Stops at the end of a frame, so
  /// bytes after a complete frame are left for the next call. On error `ec` is set and the
  /// decoder must be `reset()` before reuse; the error is terminal for the stream.
  std::size_t feed(std::string_view data, std::error_code& ec);

  /// True once a whole frame has been decoded.
  bool done() const noexcept { return state_ == State::done; }

  /// The decoded frame; valid when `done()`. May be moved from.
  Frame& frame() noexcept { return frame_; }

  /// Forgets the current frame and prepares for the next one.
  void reset() noexcept;

  /// Bytes of the current frame consumed so far (for diagnostics).
  std::size_t consumed() const noexcept { return consumed_; }

 private:
  enum class State { header, options, payload, done };

  std::error_code parse_header();

  std::size_t max_payload_;
  State state_ = State::header;
  std::uint8_t header_[kMaxHeaderSize] = {};
  std::size_t have_ = 0;
  std::size_t options_len_ = 0;
  std::uint32_t payload_len_ = 0;
  std::size_t consumed_ = 0;
  Frame frame_;
};

}  // namespace pivot::protocol
