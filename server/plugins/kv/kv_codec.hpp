#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/proto/kv.pb.h"

namespace pivot::kv::codec {

/// kv.v1.Request / kv.v1.Response in the two codecs the kv.* methods accept (protocol doc §5.3):
/// protobuf (0x80, what spiral/roadrunner-kv sends) and JSON (0x08, the JSON form of the same
/// messages as Go's encoding/json writes it: field names as in the .proto, matched
/// case-insensitively on input, `value` as base64 like any Go []byte, empty fields omitted).
/// Pure functions, any thread.

/// Decodes an argument sent with `codec` (a protocol::flags::kCodec* bit). An empty body is the
/// zero-value Request (Go skips decoding). On failure returns false and sets `error` to the text
/// to send back; codecs other than protobuf and JSON are refused there too.
bool decode_request(std::uint8_t codec, std::string_view body, ::kv::v1::Request& out, std::string& error);

/// Encodes a reply in `codec` (protobuf or JSON).
std::string encode_response(std::uint8_t codec, const ::kv::v1::Response& response);

/// Encodes `request` as JSON (for tests and clients).
std::string request_to_json(const ::kv::v1::Request& request);

/// Standard base64 with padding (Go's encoding/json form of []byte).
std::string base64_encode(std::string_view bytes);

/// Decodes standard base64 (padding required, as Go's encoding/json); false on bad input.
bool base64_decode(std::string_view text, std::string& out);

}  // namespace pivot::kv::codec
