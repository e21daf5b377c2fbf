// Fuzz target: the HTTP/1.x request path up to the worker frame — the llhttp wrapper
// (server/http/request_parser) fed any split of the bytes, pipelined requests included, then the
// translation of every complete request into a RoadRunner request frame (request_translator).
// The frame must decode as one goridge frame whose context is valid JSON with the request's
// method, and whose body is the request's body.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "chunker.hpp"
#include "protocol/frame_decoder.hpp"
#include "server/http/request_parser.hpp"
#include "server/http/request_translator.hpp"

namespace {

using pivot::http::RequestParser;

void check(bool ok) {
  if (!ok) std::abort();
}

void translate(pivot::http::RequestTranslator& translator, const pivot::http::HttpRequest& req) {
  std::string frame;
  translator.build_frame(frame, req, "192.0.2.1", "localhost:8080");
  pivot::protocol::FrameDecoder decoder(1 << 20);
  std::error_code ec;
  check(decoder.feed(frame, ec) == frame.size() && !ec && decoder.done());
  const auto& f = decoder.frame();
  check(f.options.size() == 1 && f.options[0] <= f.payload.size());
  const std::string_view context = std::string_view(f.payload).substr(0, f.options[0]);
  const auto json = nlohmann::json::parse(context, nullptr, false);
  check(!json.is_discarded() && json.is_object());
  check(json.contains("method") && json["method"].is_string());
  const std::string_view body = std::string_view(f.payload).substr(f.options[0]);
  check(body.empty() || body == req.body);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  pivot::fuzz::Chunker chunker(data[0]);
  RequestParser parser(4096, 1 << 16);
  pivot::http::RequestTranslator translator;
  while (!rest.empty()) {
    const std::string_view chunk = chunker.next(rest);
    RequestParser::Status status = RequestParser::Status::need_more;
    const std::size_t used = parser.feed(chunk, status);
    check(used <= chunk.size());
    rest.remove_prefix(used);
    switch (status) {
      case RequestParser::Status::need_more:
        check(used == chunk.size());
        break;
      case RequestParser::Status::expect_continue:
        parser.resume();
        break;
      case RequestParser::Status::complete:
        translate(translator, parser.request());
        parser.resume();
        break;
      case RequestParser::Status::error: {
        const int st = parser.error_status();
        check(st == 400 || st == 413 || st == 431 || st == 501 || st == 505);
        return 0;  // the session answers and closes
      }
    }
  }
  (void)parser.finish_eof();
  return 0;
}
