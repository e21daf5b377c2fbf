#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pivot::protocol {

/// Frame flags (byte 1), goridge v3.
namespace flags {
inline constexpr std::uint8_t kControl = 0x01;
inline constexpr std::uint8_t kCodecRaw = 0x04;
inline constexpr std::uint8_t kCodecJson = 0x08;
inline constexpr std::uint8_t kCodecMsgpack = 0x10;
inline constexpr std::uint8_t kCodecGob = 0x20;
inline constexpr std::uint8_t kError = 0x40;
inline constexpr std::uint8_t kCodecProto = 0x80;
}  // namespace flags

/// Stream-control bits (byte 10), goridge v3.
namespace stream_bits {
inline constexpr std::uint8_t kStream = 0x01;
inline constexpr std::uint8_t kStop = 0x02;
inline constexpr std::uint8_t kPing = 0x04;
inline constexpr std::uint8_t kPong = 0x08;
}  // namespace stream_bits

/// Size of the fixed frame header in bytes.
inline constexpr std::size_t kHeaderSize = 12;
/// Maximum number of 32-bit option words a frame may carry.
inline constexpr std::size_t kMaxOptions = 10;
/// Largest possible header (fixed part plus all options).
inline constexpr std::size_t kMaxHeaderSize = kHeaderSize + 4 * kMaxOptions;

/// One decoded (or to-be-encoded) goridge frame.
struct Frame {
  std::uint8_t flags = 0;              ///< byte 1
  std::uint8_t byte10 = 0;             ///< stream bits
  std::vector<std::uint32_t> options;  ///< at most kMaxOptions words
  std::string payload;                 ///< payload bytes (options not included)

  /// True when the CONTROL flag is set.
  bool is_control() const noexcept { return (flags & flags::kControl) != 0; }
  /// True when the ERROR flag is set.
  bool is_error() const noexcept { return (flags & flags::kError) != 0; }
};

/// Writes the 12-byte header plus options for a frame into `out` and returns the bytes written.
/// `out` must hold 12 + 4 * options.size() bytes; options.size() must be <= kMaxOptions.
std::size_t write_frame_header(std::uint8_t* out, std::uint8_t flags, std::span<const std::uint32_t> options,
                               std::uint32_t payload_len, std::uint8_t byte10 = 0) noexcept;

/// Appends the header, the options and then `payload` to `out`.
void append_frame(std::string& out, std::uint8_t flags, std::span<const std::uint32_t> options,
                  std::string_view payload, std::uint8_t byte10 = 0);

/// Encodes a whole frame into a new string.
std::string encode_frame(const Frame& frame);

/// Builds a data frame in place: reserves the 16-byte header (one option) at the front of `buf`
/// so the caller can append the context and body, then `finish_data_frame` fills the header.
class DataFrameBuilder {
 public:
  /// Header bytes reserved at the front of the buffer (12 + one option).
  static constexpr std::size_t kReserved = kHeaderSize + 4;

  /// Clears `buf` and reserves the header.
  static void begin(std::string& buf);
  /// Fills the header of a frame started with `begin`: `context_len` is option[0].
  static void finish(std::string& buf, std::uint8_t flags, std::uint32_t context_len) noexcept;
};

}  // namespace pivot::protocol
