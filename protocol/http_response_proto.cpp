#include "protocol/http_response_proto.hpp"

#include <climits>

#include "protocol/protocol_error.hpp"

namespace pivot::protocol {
namespace {

/// A forward-only reader of protobuf wire format (varints and length-delimited fields).
class WireReader {
 public:
  explicit WireReader(std::string_view bytes) noexcept : p_(bytes) {}

  bool at_end() const noexcept { return p_.empty(); }

  bool varint(std::uint64_t& v) noexcept {
    v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
      if (p_.empty()) return false;
      const auto b = static_cast<unsigned char>(p_.front());
      p_.remove_prefix(1);
      v |= static_cast<std::uint64_t>(b & 0x7F) << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  }

  bool bytes(std::string_view& out) noexcept {
    std::uint64_t n = 0;
    if (!varint(n) || n > p_.size()) return false;
    out = p_.substr(0, static_cast<std::size_t>(n));
    p_.remove_prefix(static_cast<std::size_t>(n));
    return true;
  }

  /// Skips a field of `wire_type` whose tag was already read.
  bool skip(unsigned wire_type) noexcept {
    std::uint64_t v = 0;
    std::string_view s;
    switch (wire_type) {
      case 0: return varint(v);
      case 1: return advance(8);
      case 2: return bytes(s);
      case 5: return advance(4);
      default: return false;  // groups (3, 4) are not used by http.v1
    }
  }

 private:
  bool advance(std::size_t n) noexcept {
    if (p_.size() < n) return false;
    p_.remove_prefix(n);
    return true;
  }

  std::string_view p_;
};

/// One map<string, HeaderValue> entry: key (1) and HeaderValue{repeated bytes value = 1} (2).
bool decode_header_entry(std::string_view entry, HttpResponseContext& out) {
  WireReader r(entry);
  std::string_view name;
  std::string_view values;
  bool have_values = false;
  while (!r.at_end()) {
    std::uint64_t tag = 0;
    if (!r.varint(tag)) return false;
    const auto field = tag >> 3;
    const auto type = static_cast<unsigned>(tag & 7);
    if (field == 1 && type == 2) {
      if (!r.bytes(name)) return false;
    } else if (field == 2 && type == 2) {
      if (!r.bytes(values)) return false;
      have_values = true;
    } else if (!r.skip(type)) {
      return false;
    }
  }
  if (!have_values) return true;
  WireReader v(values);
  while (!v.at_end()) {
    std::uint64_t tag = 0;
    if (!v.varint(tag)) return false;
    if ((tag >> 3) == 1 && (tag & 7) == 2) {
      std::string_view value;
      if (!v.bytes(value)) return false;
      out.headers.push_back(HeaderField{std::string(name), std::string(value)});
    } else if (!v.skip(static_cast<unsigned>(tag & 7))) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::error_code decode_proto_response_context(std::string_view bytes, HttpResponseContext& out) {
  out.status = 200;
  out.headers.clear();
  if (bytes.empty()) return {};
  std::int64_t status = 0;
  WireReader r(bytes);
  while (!r.at_end()) {
    std::uint64_t tag = 0;
    if (!r.varint(tag)) return ProtocolError::bad_protobuf;
    const auto field = tag >> 3;
    const auto type = static_cast<unsigned>(tag & 7);
    if (field == 1 && type == 0) {
      std::uint64_t v = 0;
      if (!r.varint(v)) return ProtocolError::bad_protobuf;
      status = static_cast<std::int64_t>(v);
    } else if (field == 2 && type == 2) {
      std::string_view entry;
      if (!r.bytes(entry) || !decode_header_entry(entry, out)) return ProtocolError::bad_protobuf;
    } else if (!r.skip(type)) {
      return ProtocolError::bad_protobuf;
    }
  }
  out.status = static_cast<int>(status < INT_MIN ? INT_MIN : status > INT_MAX ? INT_MAX : status);
  if (status < 100 || status > 599) return ProtocolError::bad_status;
  return {};
}

}  // namespace pivot::protocol
