#include "protocol/frame.hpp"

#include <cstring>

#include "protocol/crc32.hpp"

namespace pivot::protocol {
namespace {

void put_u32le(std::uint8_t* p, std::uint32_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v);
  p[1] = static_cast<std::uint8_t>(v >> 8);
  p[2] = static_cast<std::uint8_t>(v >> 16);
  p[3] = static_cast<std::uint8_t>(v >> 24);
}

}  // namespace

std::size_t write_frame_header(std::uint8_t* out, std::uint8_t flag_bits, std::span<const std::uint32_t> options,
                               std::uint32_t payload_len, std::uint8_t byte10) noexcept {
  const auto hl = static_cast<std::uint8_t>(3 + options.size());
  out[0] = static_cast<std::uint8_t>(0x10U | hl);
  out[1] = flag_bits;
  put_u32le(out + 2, payload_len);
  // The CRC covers bytes 0..5 only, computed after HL is final.
  put_u32le(out + 6, crc32(std::span<const std::uint8_t>(out, 6)));
  out[10] = byte10;
  out[11] = 0;
  std::uint8_t* p = out + kHeaderSize;
  for (std::uint32_t opt : options) {
    put_u32le(p, opt);
    p += 4;
  }
  return kHeaderSize + 4 * options.size();
}

void append_frame(std::string& out, std::uint8_t flag_bits, std::span<const std::uint32_t> options,
                  std::string_view payload, std::uint8_t byte10) {
  std::uint8_t header[kMaxHeaderSize];
  const std::size_t n = write_frame_header(header, flag_bits, options, static_cast<std::uint32_t>(payload.size()), byte10);
  out.append(reinterpret_cast<const char*>(header), n);
  out.append(payload);
}

std::string encode_frame(const Frame& frame) {
  std::string out;
  out.reserve(kHeaderSize + 4 * frame.options.size() + frame.payload.size());
  append_frame(out, frame.flags, frame.options, frame.payload, frame.byte10);
  return out;
}

void DataFrameBuilder::begin(std::string& buf) {
  buf.clear();
  buf.resize(kReserved);
}

void DataFrameBuilder::finish(std::string& buf, std::uint8_t flag_bits, std::uint32_t context_len) noexcept {
  const std::uint32_t option = context_len;
  write_frame_header(reinterpret_cast<std::uint8_t*>(buf.data()), flag_bits, std::span<const std::uint32_t>(&option, 1),
                     static_cast<std::uint32_t>(buf.size() - kReserved));
}

}  // namespace pivot::protocol
