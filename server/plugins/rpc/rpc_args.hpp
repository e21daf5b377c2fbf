#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>

#include "server/core/rpc_registry.hpp"

namespace pivot::rpc {

/// Decodes the small arguments our RPC services take and encodes their replies, for the codecs
/// they accept: JSON (0x08), raw (0x04) and gob (0x20 or no codec bit; only the two built-in
/// shapes `rr workers` / `rr reset` send, protocol doc §5.8). Pure functions, any thread.
namespace args {

/// Reads a string argument. An empty body is Go's zero value "". On failure returns false and
/// sets `error` to the text to send back.
bool decode_string(const core::RpcCall& call, std::string& out, std::string& error);

/// Reads a bool argument (ignored by every method that takes one, but still validated).
bool decode_bool(const core::RpcCall& call, bool& out, std::string& error);

/// The reply codec for a request: raw for raw requests, JSON for JSON and gob requests (Go's
/// client decodes a reply by the reply's own flags, so gob callers accept JSON).
std::uint8_t reply_codec(const core::RpcCall& call) noexcept;

/// A reply holding `value` as compact JSON text, flagged with reply_codec(call).
core::RpcResult json_reply(const core::RpcCall& call, const nlohmann::ordered_json& value);

/// Decodes one self-contained gob message holding a bool (`03 02 00 01`).
bool gob_decode_bool(std::string_view bytes, bool& out) noexcept;

/// Decodes one self-contained gob message holding a string (`07 0c 00 04 h t t p`).
bool gob_decode_string(std::string_view bytes, std::string& out);

/// Standard base64 with padding (Go's encoding/json form of []byte).
std::string base64_encode(std::string_view bytes);

}  // namespace args
}  // namespace pivot::rpc
