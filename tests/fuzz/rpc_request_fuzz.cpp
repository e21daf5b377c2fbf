// Fuzz target: RPC request decoding as the RPC server does it — goridge frames (any split) →
// parse_rpc_frame (protocol/rpc_frame) → method lookup (core/rpc_registry) → the argument
// decoders of every service: rpc/informer/resetter (gob, JSON, raw: plugins/rpc/rpc_args),
// kv.* (protobuf and JSON: plugins/kv/kv_codec) and metrics.* (JSON: plugins/metrics/metrics_args).
// A parsed request must re-encode to a frame that parses back to the same request.
#include <google/protobuf/stubs/logging.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "chunker.hpp"
#include "protocol/frame_decoder.hpp"
#include "protocol/rpc_frame.hpp"
#include "server/core/rpc_registry.hpp"
#include "server/plugins/kv/kv_codec.hpp"
#include "server/plugins/metrics/metrics_args.hpp"
#include "server/plugins/rpc/rpc_args.hpp"

namespace {

using pivot::protocol::RpcMessage;

void check(bool ok) {
  if (!ok) std::abort();
}

// Never called: the target only looks methods up. (Not a coroutine: clang 14 cannot emit one
// under -fsanitize=fuzzer with debug info, "Cannot represent a difference across sections".)
asio::awaitable<pivot::core::RpcResult> never_called(const pivot::core::RpcCall&) { std::abort(); }

const pivot::core::RpcRegistry& registry() {
  static const pivot::core::RpcRegistry r = [] {
    pivot::core::RpcRegistry reg;
    for (const char* m : {"informer.Workers", "informer.List", "resetter.Reset", "resetter.Andall", "rpc.Version",
                          "rpc.Config", "kvs.Set", "kvs.Get", "metrics.Add", "metrics.Declare"}) {
      reg.add(m, &never_called);
    }
    return reg;
  }();
  return r;
}

void decode_arguments(const RpcMessage& msg) {
  const pivot::core::RpcCall call{msg.method, msg.flags, msg.body};
  std::string error;
  std::string s;
  if (!pivot::rpc::args::decode_string(call, s, error)) check(!error.empty());
  bool b = false;
  error.clear();
  if (!pivot::rpc::args::decode_bool(call, b, error)) check(!error.empty());
  (void)pivot::rpc::args::gob_decode_bool(call.body, b);
  (void)pivot::rpc::args::gob_decode_string(call.body, s);

  kv::v1::Request kv_request;
  error.clear();
  if (pivot::kv::codec::decode_request(pivot::protocol::rpc_codec(call.flags), call.body, kv_request, error)) {
    (void)pivot::kv::codec::request_to_json(kv_request);
  } else {
    check(!error.empty());
  }

  pivot::metrics::MetricArg metric;
  error.clear();
  if (!pivot::metrics::args::decode_metric(call, metric, error)) check(!error.empty());
  pivot::config::MetricsCollectorConfig collector;
  error.clear();
  if (!pivot::metrics::args::decode_declare(call, collector, error)) check(!error.empty());

  std::string lookup_error;
  if (registry().find(call.method, lookup_error) == nullptr) check(!lookup_error.empty());
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);  // invalid UTF-8 in kv.v1 strings is logged, not a finding
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  pivot::fuzz::Chunker chunker(data[0]);
  pivot::protocol::FrameDecoder decoder(1 << 16);
  while (!rest.empty()) {
    const std::string_view chunk = chunker.next(rest);
    std::error_code ec;
    rest.remove_prefix(decoder.feed(chunk, ec));
    if (ec) return 0;  // the session drops the connection
    if (!decoder.done()) continue;
    RpcMessage msg;
    const auto flags = decoder.frame().flags;
    ec = pivot::protocol::parse_rpc_frame(decoder.frame(), msg);
    decoder.reset();
    if (ec) return 0;
    check(msg.flags == flags);
    decode_arguments(msg);
    // Re-encode and parse back: the same request.
    const std::string wire = pivot::protocol::encode_rpc_frame(msg.seq, msg.method, msg.flags, msg.body);
    pivot::protocol::FrameDecoder again(1 << 17);
    check(again.feed(wire, ec) == wire.size() && !ec && again.done());
    RpcMessage back;
    check(!pivot::protocol::parse_rpc_frame(again.frame(), back));
    check(back.seq == msg.seq && back.method == msg.method && back.flags == msg.flags && back.body == msg.body);
  }
  return 0;
}
