#pragma once

#include <system_error>

namespace pivot::protocol {

/// Errors found while decoding goridge frames and RoadRunner payloads.
enum class ProtocolError {
  bad_crc = 1,          ///< header CRC-32 does not match bytes 0..5
  bad_version,          ///< high nibble of byte 0 is not 1
  bad_header_length,    ///< HL < 3 or more than 10 options
  payload_too_large,    ///< payload_len above the configured maximum
  php_could_not_open,   ///< the 12 bytes were "Could not op": PHP could not open the worker script
  missing_options,      ///< a data frame without the context-length option
  bad_context_length,   ///< option[0] larger than the payload
  bad_json,             ///< a JSON context or control payload that does not parse
  bad_control,          ///< a control frame without the expected fields
  bad_status,           ///< HTTP status outside 100..599
  bad_protobuf,         ///< a protobuf context that does not parse
};

/// The std::error_category of ProtocolError.
const std::error_category& protocol_category() noexcept;

/// Makes a std::error_code from a ProtocolError.
std::error_code make_error_code(ProtocolError e) noexcept;

}  // namespace pivot::protocol

template <>
struct std::is_error_code_enum<pivot::protocol::ProtocolError> : std::true_type {};
