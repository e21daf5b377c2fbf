#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace pivot::protocol {

/// CRC-32/IEEE (zlib's crc32: reflected 0xEDB88320, init and final XOR 0xFFFFFFFF) of `data`.
std::uint32_t crc32(std::span<const std::uint8_t> data) noexcept;

}  // namespace pivot::protocol
