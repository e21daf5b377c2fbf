#include "protocol/protocol_error.hpp"

#include <string>

namespace pivot::protocol {
namespace {

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "pivot.protocol"; }
  std::string message(int ev) const override {
    switch (static_cast<ProtocolError>(ev)) {
      case ProtocolError::bad_crc: return "frame header CRC-32 mismatch";
      case ProtocolError::bad_version: return "frame protocol version is not 1";
      case ProtocolError::bad_header_length: return "frame header length out of range (HL must be 3..13)";
      case ProtocolError::payload_too_large: return "frame payload larger than the configured maximum";
      case ProtocolError::php_could_not_open: return "PHP could not open the worker script (\"Could not open input file\")";
      case ProtocolError::missing_options: return "data frame without the context-length option";
      case ProtocolError::bad_context_length: return "context length option larger than the payload";
      case ProtocolError::bad_json: return "malformed JSON";
      case ProtocolError::bad_control: return "control frame without the expected fields";
      case ProtocolError::bad_status: return "HTTP status outside 100..599";
      case ProtocolError::bad_protobuf: return "malformed protobuf";
    }
    return "unknown protocol error";
  }
};

}  // namespace

const std::error_category& protocol_category() noexcept {
  static const Category category;
  return category;
}

std::error_code make_error_code(ProtocolError e) noexcept {
  return {static_cast<int>(e), protocol_category()};
}

}  // namespace pivot::protocol
