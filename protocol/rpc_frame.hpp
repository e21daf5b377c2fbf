#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

#include "protocol/frame.hpp"

namespace pivot::protocol {

/// Errors in the goridge RPC layer on top of a well-formed frame (protocol doc §5.1).
enum class RpcFrameError {
  bad_option_count = 1,  ///< an RPC frame must carry exactly two options: seq and method length
  bad_method_length,     ///< option[1] (method length) larger than the payload
};

/// The std::error_category of RpcFrameError.
const std::error_category& rpc_frame_category() noexcept;

/// Makes a std::error_code from an RpcFrameError.
std::error_code make_error_code(RpcFrameError e) noexcept;

/// One RPC request or response: `[HL 5][flags][seq, len(method)] method + body`.
struct RpcMessage {
  std::uint32_t seq = 0;   ///< option[0], echoed in the response
  std::string method;      ///< "Service.Method"
  std::uint8_t flags = 0;  ///< the frame's flags byte: codec bits, plus kError on an error reply
  std::string body;        ///< encoded argument / reply, or the error text when kError is set

  /// True when the ERROR flag is set (the body is a plain error text).
  bool is_error() const noexcept { return (flags & flags::kError) != 0; }
};

/// The codec a receiver uses for `flag_bits`, checked in Go's order: proto, JSON, raw, msgpack,
/// and gob (also the default when no codec bit is set). Returns one of the flags::kCodec* bits.
std::uint8_t rpc_codec(std::uint8_t flag_bits) noexcept;

/// Appends an RPC frame (HL 5, options [seq, method.size()], payload = method + body) to `out`.
/// `flag_bits` is the codec, OR-ed with flags::kError for an error reply.
void append_rpc_frame(std::string& out, std::uint32_t seq, std::string_view method, std::uint8_t flag_bits,
                      std::string_view body);

/// Encodes one RPC frame into a new string (see append_rpc_frame).
std::string encode_rpc_frame(std::uint32_t seq, std::string_view method, std::uint8_t flag_bits, std::string_view body);

/// Splits a received frame into seq, method, flags and body. The frame's payload is moved from
/// on success. Fails with RpcFrameError when there are not exactly two options or the method
/// length exceeds the payload.
std::error_code parse_rpc_frame(Frame& frame, RpcMessage& out);

}  // namespace pivot::protocol

template <>
struct std::is_error_code_enum<pivot::protocol::RpcFrameError> : std::true_type {};
