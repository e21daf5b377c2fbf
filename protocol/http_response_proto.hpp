#pragma once

#include <cstdint>
#include <string_view>
#include <system_error>

#include "protocol/frame.hpp"
#include "protocol/http_payload.hpp"

namespace pivot::protocol {

/// Decodes a protobuf `http.v1.Response` context (response frame flags 0x80, protocol doc §3.5):
/// status (field 1) and the multi-value header map (field 2), one HeaderField per value, in wire
/// order; unknown fields are skipped. Empty bytes mean status 200 without headers (RoadRunner
/// skips an empty context); a non-empty context without a status has status 0. A status outside
/// 100..599 returns ProtocolError::bad_status with `out.status` set to it (clamped to int).
std::error_code decode_proto_response_context(std::string_view bytes, HttpResponseContext& out);

/// Decodes a response context by the reply frame's flags: protobuf when 0x80 is set, else JSON
/// (flags 0x00 or 0x08; see decode_response_context).
inline std::error_code decode_reply_context(std::uint8_t frame_flags, std::string_view context, HttpResponseContext& out) {
  if (frame_flags & flags::kCodecProto) return decode_proto_response_context(context, out);
  return decode_response_context(context, out);
}

}  // namespace pivot::protocol
