#include "server/plugins/kv/kv_codec.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <cctype>

#include "protocol/frame.hpp"

namespace pivot::kv::codec {
namespace {

namespace pf = protocol::flags;
namespace kvpb = ::kv::v1;

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

const char* type_name(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::object: return "object";
    case nlohmann::json::value_t::array: return "array";
    case nlohmann::json::value_t::string: return "string";
    case nlohmann::json::value_t::boolean: return "bool";
    default: return "number";
  }
}

/// A JSON string field (null = ""), Go-style: a wrong type is an error naming the field.
bool read_string(const nlohmann::json& j, const char* field, std::string& out, std::string& error) {
  if (j.is_null()) return true;
  if (!j.is_string()) {
    error = std::string("json: cannot unmarshal ") + type_name(j) + " into field " + field + " of type string";
    return false;
  }
  out = j.get<std::string>();
  return true;
}

bool read_item(const nlohmann::json& j, kvpb::Item& item, std::string& error) {
  if (j.is_null()) return true;
  if (!j.is_object()) {
    error = std::string("json: cannot unmarshal ") + type_name(j) + " into field Request.items of type kv.v1.Item";
    return false;
  }
  for (const auto& [name, v] : j.items()) {
    if (iequals(name, "key")) {
      if (!read_string(v, "Item.key", *item.mutable_key(), error)) return false;
    } else if (iequals(name, "value")) {
      std::string b64;
      if (!read_string(v, "Item.value", b64, error)) return false;
      if (!base64_decode(b64, *item.mutable_value())) {
        error = "json: Item.value must be base64 (standard alphabet, padded), as Go encodes []byte";
        return false;
      }
    } else if (iequals(name, "timeout")) {
      if (!read_string(v, "Item.timeout", *item.mutable_timeout(), error)) return false;
    }  // unknown fields are ignored, as in Go
  }
  return true;
}

bool decode_json(std::string_view body, kvpb::Request& out, std::string& error) {
  const auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded()) {
    error = "json: the argument is not valid JSON";
    return false;
  }
  if (j.is_null()) return true;
  if (!j.is_object()) {
    error = std::string("json: cannot unmarshal ") + type_name(j) + " into Go value of type kv.v1.Request";
    return false;
  }
  for (const auto& [name, v] : j.items()) {
    if (iequals(name, "storage")) {
      if (!read_string(v, "Request.storage", *out.mutable_storage(), error)) return false;
    } else if (iequals(name, "items")) {
      if (v.is_null()) continue;
      if (!v.is_array()) {
        error = std::string("json: cannot unmarshal ") + type_name(v) + " into field Request.items of type []kv.v1.Item";
        return false;
      }
      for (const auto& e : v) {
        if (!read_item(e, *out.add_items(), error)) return false;
      }
    }
  }
  return true;
}

nlohmann::ordered_json item_json(const kvpb::Item& item) {
  auto o = nlohmann::ordered_json::object();
  if (!item.key().empty()) o["key"] = item.key();
  if (!item.value().empty()) o["value"] = base64_encode(item.value());
  if (!item.timeout().empty()) o["timeout"] = item.timeout();
  return o;
}

std::string dump(const nlohmann::ordered_json& j) {
  // Compact like Go; invalid UTF-8 in a key becomes U+FFFD (Go does the same) instead of throwing.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

bool decode_request(std::uint8_t codec, std::string_view body, kvpb::Request& out, std::string& error) {
  out.Clear();
  if (body.empty()) return true;  // Go skips decoding an empty argument: the zero value
  if (codec == pf::kCodecProto) {
    if (out.ParseFromArray(body.data(), static_cast<int>(body.size()))) return true;
    error = "proto: cannot parse the argument as kv.v1.Request";
    return false;
  }
  if (codec == pf::kCodecJson) return decode_json(body, out, error);
  error = "the kv service accepts the protobuf and json codecs only";
  return false;
}

std::string encode_response(std::uint8_t codec, const kvpb::Response& response) {
  if (codec == pf::kCodecProto) return response.SerializeAsString();
  auto o = nlohmann::ordered_json::object();
  if (response.items_size() > 0) {
    auto& items = o["items"] = nlohmann::ordered_json::array();
    for (const auto& item : response.items()) items.push_back(item_json(item));
  }
  return dump(o);
}

std::string request_to_json(const kvpb::Request& request) {
  auto o = nlohmann::ordered_json::object();
  if (!request.storage().empty()) o["storage"] = request.storage();
  if (request.items_size() > 0) {
    auto& items = o["items"] = nlohmann::ordered_json::array();
    for (const auto& item : request.items()) items.push_back(item_json(item));
  }
  return dump(o);
}

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const std::uint32_t v = (static_cast<std::uint32_t>(static_cast<std::uint8_t>(bytes[i])) << 16) |
                            (static_cast<std::uint32_t>(static_cast<std::uint8_t>(bytes[i + 1])) << 8) |
                            static_cast<std::uint8_t>(bytes[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i < bytes.size()) {
    std::uint32_t v = static_cast<std::uint32_t>(static_cast<std::uint8_t>(bytes[i])) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<std::uint32_t>(static_cast<std::uint8_t>(bytes[i + 1])) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

bool base64_decode(std::string_view text, std::string& out) {
  static const std::array<std::int8_t, 256> kIndex = [] {
    std::array<std::int8_t, 256> t{};
    t.fill(-1);
    for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::int8_t>(i);
    return t;
  }();
  out.clear();
  if (text.size() % 4 != 0) return false;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    std::uint32_t v = 0;
    int pad = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      const char c = text[i + k];
      if (c == '=' && last && k >= 2) {
        ++pad;
        v <<= 6;
        continue;
      }
      const std::int8_t x = kIndex[static_cast<unsigned char>(c)];
      if (x < 0 || pad > 0) return false;  // a data char after '=' is invalid
      v = (v << 6) | static_cast<std::uint32_t>(x);
    }
    out += static_cast<char>((v >> 16) & 0xFF);
    if (pad < 2) out += static_cast<char>((v >> 8) & 0xFF);
    if (pad < 1) out += static_cast<char>(v & 0xFF);
  }
  return true;
}

}  // namespace pivot::kv::codec
