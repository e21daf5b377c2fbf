// Fuzz target: the streaming multipart/form-data parser (protocol/multipart_parser). Input: a
// seed byte for the split, then a Content-Type value up to the first '\n' (its boundary, or the
// line itself as the boundary), then the body. The body is parsed once whole and once in chunks;
// both must report the same parts, the same bytes and the same outcome.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <system_error>

#include "chunker.hpp"
#include "protocol/multipart_parser.hpp"

namespace {

using pivot::protocol::MultipartParser;
using pivot::protocol::MultipartPart;

void check(bool ok) {
  if (!ok) std::abort();
}

/// Records the events as text; consecutive data calls are merged, so any split compares equal.
class Recorder : public MultipartParser::Handler {
 public:
  std::error_code on_part_begin(const MultipartPart& part) override {
    check(!in_part_);
    in_part_ = true;
    log += "B" + part.name + "|" + std::to_string(part.has_filename) + part.filename + "|" + part.content_type + "\n";
    return {};
  }
  std::error_code on_part_data(std::string_view data) override {
    check(in_part_ && !data.empty());
    log.append(data);
    return {};
  }
  std::error_code on_part_end() override {
    check(in_part_);
    in_part_ = false;
    log += "\nE\n";
    return {};
  }

  std::string log;

 private:
  bool in_part_ = false;
};

struct Outcome {
  std::string log;
  std::error_code error;
  bool done = false;
};

Outcome parse(std::string_view boundary, std::string_view body, std::uint8_t seed) {
  MultipartParser parser(256);
  Outcome out;
  if (!parser.reset(boundary)) {
    out.done = true;
    return out;
  }
  Recorder rec;
  pivot::fuzz::Chunker chunker(seed);
  while (!body.empty()) {
    const std::string_view chunk = chunker.next(body);
    body.remove_prefix(chunk.size());
    out.error = parser.feed(chunk, rec);
    if (out.error) {
      check(parser.feed("x", rec) == out.error);  // errors are sticky
      break;
    }
  }
  out.log = std::move(rec.log);
  out.done = parser.done();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::size_t nl = rest.find('\n');
  const std::string_view content_type = rest.substr(0, nl);
  const std::string_view body = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
  std::string boundary;
  if (!MultipartParser::boundary_from_content_type(content_type, boundary)) boundary.assign(content_type);
  check(boundary.size() <= content_type.size() || boundary.empty());
  const Outcome whole = parse(boundary, body, 0);
  const Outcome split = parse(boundary, body, data[0]);
  check(whole.error == split.error);
  check(whole.done == split.done);
  if (!whole.error) check(whole.log == split.log);
  MultipartPart part;
  MultipartParser::parse_part_headers(body.substr(0, 1024), part);
  return 0;
}
