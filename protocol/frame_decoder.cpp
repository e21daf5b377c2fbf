#include "protocol/frame_decoder.hpp"

#include <algorithm>
#include <cstring>

#include "protocol/crc32.hpp"
#include "protocol/protocol_error.hpp"

namespace pivot::protocol {
namespace {

std::uint32_t get_u32le(const std::uint8_t* p) noexcept {
  return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
         (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}

constexpr std::string_view kCouldNotOpen = "Could not op";

}  // namespace

void FrameDecoder::reset() noexcept {
  state_ = State::header;
  have_ = 0;
  options_len_ = 0;
  payload_len_ = 0;
  consumed_ = 0;
  frame_.flags = 0;
  frame_.byte10 = 0;
  frame_.options.clear();
  frame_.payload.clear();
}

std::error_code FrameDecoder::parse_header() {
  if (std::string_view(reinterpret_cast<const char*>(header_), kHeaderSize) == kCouldNotOpen) {
    return ProtocolError::php_could_not_open;
  }
  if ((header_[0] >> 4) != 1) {
    return ProtocolError::bad_version;
  }
  const std::size_t hl = header_[0] & 0x0FU;
  if (hl < 3 || hl - 3 > kMaxOptions) {
    return ProtocolError::bad_header_length;
  }
  if (crc32(std::span<const std::uint8_t>(header_, 6)) != get_u32le(header_ + 6)) {
    return ProtocolError::bad_crc;
  }
  payload_len_ = get_u32le(header_ + 2);
  if (payload_len_ > max_payload_) {
    return ProtocolError::payload_too_large;
  }
  frame_.flags = header_[1];
  frame_.byte10 = header_[10];
  options_len_ = (hl - 3) * 4;
  return {};
}

std::size_t FrameDecoder::feed(std::string_view data, std::error_code& ec) {
  ec.clear();
  std::size_t used = 0;
  const auto finish = [&] {
    consumed_ += used;
    return used;
  };
  for (;;) {
    switch (state_) {
      case State::header: {
        const std::size_t take = std::min(kHeaderSize - have_, data.size() - used);
        std::memcpy(header_ + have_, data.data() + used, take);
        have_ += take;
        used += take;
        if (have_ < kHeaderSize) return finish();
        ec = parse_header();
        if (ec) return finish();
        state_ = options_len_ ? State::options : State::payload;
        continue;
      }
      case State::options: {
        const std::size_t want = kHeaderSize + options_len_;
        const std::size_t take = std::min(want - have_, data.size() - used);
        std::memcpy(header_ + have_, data.data() + used, take);
        have_ += take;
        used += take;
        if (have_ < want) return finish();
        frame_.options.resize(options_len_ / 4);
        for (std::size_t i = 0; i < frame_.options.size(); ++i) {
          frame_.options[i] = get_u32le(header_ + kHeaderSize + 4 * i);
        }
        state_ = State::payload;
        continue;
      }
      case State::payload: {
        if (frame_.payload.capacity() < payload_len_) frame_.payload.reserve(payload_len_);
        const std::size_t take = std::min<std::size_t>(payload_len_ - frame_.payload.size(), data.size() - used);
        frame_.payload.append(data.data() + used, take);
        used += take;
        if (frame_.payload.size() == payload_len_) state_ = State::done;
        return finish();
      }
      case State::done:
        return finish();
    }
  }
}

}  // namespace pivot::protocol
