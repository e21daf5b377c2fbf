// Fuzz target: the goridge v3 frame decoder (protocol/frame_decoder). The first input byte picks
// how the rest is split; the stream is decoded frame by frame both incrementally and in one
// piece, and both must agree (same frames, same error at the same place). Every decoded frame is
// re-encoded, and the encoding must decode back to the same frame.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "chunker.hpp"
#include "protocol/frame.hpp"
#include "protocol/frame_decoder.hpp"

namespace {

using pivot::protocol::Frame;
using pivot::protocol::FrameDecoder;

constexpr std::size_t kMaxPayload = 1 << 16;

struct Result {
  std::vector<Frame> frames;
  std::error_code error;
  std::size_t used = 0;  // bytes consumed when the stream ended or failed
};

void check(bool ok) {
  if (!ok) std::abort();
}

Result decode(std::string_view data, std::uint8_t seed) {
  Result r;
  FrameDecoder decoder(kMaxPayload);
  pivot::fuzz::Chunker chunker(seed);
  std::string_view rest = data;
  while (!rest.empty()) {
    const std::string_view chunk = chunker.next(rest);
    std::error_code ec;
    const std::size_t n = decoder.feed(chunk, ec);
    check(n <= chunk.size());
    r.used += n;
    rest.remove_prefix(n);
    if (ec) {
      r.error = ec;
      return r;
    }
    if (decoder.done()) {
      r.frames.push_back(std::move(decoder.frame()));
      decoder.reset();
    } else {
      check(n == chunk.size());  // an unfinished frame swallows the whole chunk
    }
  }
  return r;
}

bool same(const Frame& a, const Frame& b) {
  return a.flags == b.flags && a.byte10 == b.byte10 && a.options == b.options && a.payload == b.payload;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);
  const Result split = decode(stream, data[0]);
  const Result whole = decode(stream, 0);
  check(split.frames.size() == whole.frames.size());
  check(split.error == whole.error);
  check(split.used == whole.used);
  for (std::size_t i = 0; i < split.frames.size(); ++i) {
    const Frame& f = split.frames[i];
    check(same(f, whole.frames[i]));
    check(f.options.size() <= pivot::protocol::kMaxOptions);
    check(f.payload.size() <= kMaxPayload);
    const std::string wire = pivot::protocol::encode_frame(f);
    const Result again = decode(wire, static_cast<std::uint8_t>(data[0] + 1));
    check(!again.error && again.frames.size() == 1 && same(again.frames[0], f));
  }
  return 0;
}
