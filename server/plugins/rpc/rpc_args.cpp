#include "server/plugins/rpc/rpc_args.hpp"

#include "protocol/frame.hpp"
#include "protocol/rpc_frame.hpp"

namespace pivot::rpc::args {
namespace {

namespace pf = protocol::flags;

constexpr std::int64_t kGobBoolType = 1;
constexpr std::int64_t kGobStringType = 6;

bool gob_uint(std::string_view& s, std::uint64_t& v) noexcept {
  if (s.empty()) return false;
  const auto b = static_cast<std::uint8_t>(s.front());
  s.remove_prefix(1);
  if (b < 0x80) {
    v = b;
    return true;
  }
  const std::size_t n = 256U - b;  // the negated byte count of a big-endian value
  if (n > 8 || s.size() < n) return false;
  v = 0;
  for (std::size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<std::uint8_t>(s[i]);
  s.remove_prefix(n);
  return true;
}

bool gob_int(std::string_view& s, std::int64_t& v) noexcept {
  std::uint64_t u = 0;
  if (!gob_uint(s, u)) return false;
  v = (u & 1U) ? static_cast<std::int64_t>(~(u >> 1)) : static_cast<std::int64_t>(u >> 1);
  return true;
}

/// Checks the message length, the type id and the singleton marker; leaves the value in `s`.
bool gob_value(std::string_view& s, std::int64_t type_id) noexcept {
  std::uint64_t len = 0;
  if (!gob_uint(s, len) || len != s.size()) return false;
  std::int64_t id = 0;
  std::uint64_t singleton = 1;
  return gob_int(s, id) && id == type_id && gob_uint(s, singleton) && singleton == 0;
}

const char* codec_name(std::uint8_t codec) {
  switch (codec) {
    case pf::kCodecProto: return "protobuf";
    case pf::kCodecMsgpack: return "msgpack";
    case pf::kCodecJson: return "json";
    case pf::kCodecRaw: return "raw";
    default: return "gob";
  }
}

std::string unsupported(const core::RpcCall& call) {
  return "rpc: " + call.method + " does not accept the " + codec_name(protocol::rpc_codec(call.flags)) +
         " codec (use json, raw or gob)";
}

}  // namespace

bool gob_decode_bool(std::string_view bytes, bool& out) noexcept {
  std::uint64_t v = 0;
  if (!gob_value(bytes, kGobBoolType) || !gob_uint(bytes, v) || !bytes.empty() || v > 1) return false;
  out = v == 1;
  return true;
}

bool gob_decode_string(std::string_view bytes, std::string& out) {
  std::uint64_t n = 0;
  if (!gob_value(bytes, kGobStringType) || !gob_uint(bytes, n) || n != bytes.size()) return false;
  out.assign(bytes);
  return true;
}

bool decode_string(const core::RpcCall& call, std::string& out, std::string& error) {
  out.clear();
  if (call.body.empty()) return true;  // Go skips decoding: the zero value
  switch (protocol::rpc_codec(call.flags)) {
    case pf::kCodecRaw:
      out = call.body;
      return true;
    case pf::kCodecJson: {
      const auto j = nlohmann::json::parse(call.body, nullptr, false);
      if (j.is_string()) {
        out = j.get<std::string>();
        return true;
      }
      if (j.is_null() && !j.is_discarded()) return true;
      error = "rpc: " + call.method + ": the argument must be a JSON string";
      return false;
    }
    case pf::kCodecGob:
      if (gob_decode_string(call.body, out)) return true;
      error = "rpc: " + call.method + ": cannot decode the gob argument (expected a string)";
      return false;
    default:
      error = unsupported(call);
      return false;
  }
}

bool decode_bool(const core::RpcCall& call, bool& out, std::string& error) {
  out = false;
  if (call.body.empty()) return true;
  switch (protocol::rpc_codec(call.flags)) {
    case pf::kCodecRaw:
      return true;  // Go's raw codec carries bytes only; the flag is ignored anyway
    case pf::kCodecJson: {
      const auto j = nlohmann::json::parse(call.body, nullptr, false);
      if (j.is_boolean()) {
        out = j.get<bool>();
        return true;
      }
      if (j.is_null() && !j.is_discarded()) return true;
      error = "rpc: " + call.method + ": the argument must be JSON true or false";
      return false;
    }
    case pf::kCodecGob:
      if (gob_decode_bool(call.body, out)) return true;
      error = "rpc: " + call.method + ": cannot decode the gob argument (expected a bool)";
      return false;
    default:
      error = unsupported(call);
      return false;
  }
}

std::uint8_t reply_codec(const core::RpcCall& call) noexcept {
  return protocol::rpc_codec(call.flags) == pf::kCodecRaw ? pf::kCodecRaw : pf::kCodecJson;
}

core::RpcResult json_reply(const core::RpcCall& call, const nlohmann::ordered_json& value) {
  // Compact like Go's encoding/json (which also escapes <, > and &; both forms are the same
  // JSON). `replace` turns invalid UTF-8 (a command line, say) into U+FFFD instead of throwing.
  return core::RpcResult::reply(value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), reply_codec(call));
}

std::string base64_encode(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const std::uint32_t v = (static_cast<std::uint8_t>(bytes[i]) << 16) | (static_cast<std::uint8_t>(bytes[i + 1]) << 8) |
                            static_cast<std::uint8_t>(bytes[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i < bytes.size()) {
    std::uint32_t v = static_cast<std::uint8_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<std::uint8_t>(bytes[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

}  // namespace pivot::rpc::args
