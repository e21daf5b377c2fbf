#include "protocol/rpc_frame.hpp"

#include <array>

namespace pivot::protocol {
namespace {

class RpcCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "pivot.rpc_frame"; }
  std::string message(int ev) const override {
    switch (static_cast<RpcFrameError>(ev)) {
      case RpcFrameError::bad_option_count: return "RPC frame must have exactly 2 options (seq, method length)";
      case RpcFrameError::bad_method_length: return "RPC method length larger than the payload";
    }
    return "unknown RPC frame error";
  }
};

}  // namespace

const std::error_category& rpc_frame_category() noexcept {
  static const RpcCategory category;
  return category;
}

std::error_code make_error_code(RpcFrameError e) noexcept { return {static_cast<int>(e), rpc_frame_category()}; }

std::uint8_t rpc_codec(std::uint8_t flag_bits) noexcept {
  for (std::uint8_t bit : {flags::kCodecProto, flags::kCodecJson, flags::kCodecRaw, flags::kCodecMsgpack}) {
    if (flag_bits & bit) return bit;
  }
  return flags::kCodecGob;
}

void append_rpc_frame(std::string& out, std::uint32_t seq, std::string_view method, std::uint8_t flag_bits,
                      std::string_view body) {
  const std::array<std::uint32_t, 2> options{seq, static_cast<std::uint32_t>(method.size())};
  std::uint8_t header[kHeaderSize + 8];
  const std::size_t n =
      write_frame_header(header, flag_bits, options, static_cast<std::uint32_t>(method.size() + body.size()));
  out.reserve(out.size() + n + method.size() + body.size());
  out.append(reinterpret_cast<const char*>(header), n);
  out.append(method);
  out.append(body);
}

std::string encode_rpc_frame(std::uint32_t seq, std::string_view method, std::uint8_t flag_bits, std::string_view body) {
  std::string out;
  append_rpc_frame(out, seq, method, flag_bits, body);
  return out;
}

std::error_code parse_rpc_frame(Frame& frame, RpcMessage& out) {
  if (frame.options.size() != 2) return RpcFrameError::bad_option_count;
  const std::uint32_t method_len = frame.options[1];
  if (method_len > frame.payload.size()) return RpcFrameError::bad_method_length;
  out.seq = frame.options[0];
  out.flags = frame.flags;
  out.method.assign(frame.payload, 0, method_len);
  frame.payload.erase(0, method_len);
  out.body = std::move(frame.payload);
  frame.payload.clear();
  return {};
}

}  // namespace pivot::protocol
