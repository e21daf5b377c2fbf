#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <string>

#include "protocol/frame.hpp"
#include "protocol/frame_decoder.hpp"
#include "protocol/protocol_error.hpp"

using namespace pivot::protocol;

namespace {

std::string from_hex(const std::string& hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

nlohmann::json vectors() {
  std::ifstream in(std::string(PIVOT_VECTORS_DIR) + "/goridge_frames.json");
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}

Frame decode_all(FrameDecoder& d, const std::string& bytes, std::error_code& ec) {
  const std::size_t used = d.feed(bytes, ec);
  CHECK(used == bytes.size());
  return d.frame();
}

}  // namespace

TEST_CASE("every golden frame encodes byte for byte and decodes back", "[protocol][frame]") {
  const auto v = vectors();
  REQUIRE(v["frames"].size() >= 6);
  for (const auto& f : v["frames"]) {
    INFO(f["name"].get<std::string>());
    Frame frame;
    frame.flags = f["flags"].get<std::uint8_t>();
    frame.byte10 = f["byte10"].get<std::uint8_t>();
    frame.options = f["options"].get<std::vector<std::uint32_t>>();
    frame.payload = from_hex(f["payload_hex"].get<std::string>());
    const std::string wire = from_hex(f["frame_hex"].get<std::string>());
    CHECK(encode_frame(frame) == wire);

    FrameDecoder d(1 << 20);
    std::error_code ec;
    const Frame got = decode_all(d, wire, ec);
    REQUIRE_FALSE(ec);
    REQUIRE(d.done());
    CHECK(got.flags == frame.flags);
    CHECK(got.byte10 == frame.byte10);
    CHECK(got.options == frame.options);
    CHECK(got.payload == frame.payload);
  }
}

TEST_CASE("protocol doc 1.5 (a): pid request bytes", "[protocol][frame]") {
  std::string out;
  append_frame(out, flags::kControl | flags::kCodecJson, {}, R"({"pid":12345})");
  CHECK(out == from_hex("13090d0000003a6bfacb00007b22706964223a31323334357d"));
}

TEST_CASE("a frame fed one byte at a time decodes", "[protocol][frame]") {
  const std::uint32_t opts[] = {1, 13};
  std::string wire;
  append_frame(wire, flags::kCodecJson, opts, "informer.Listtrue");
  FrameDecoder d(1024);
  for (std::size_t i = 0; i < wire.size(); ++i) {
    REQUIRE_FALSE(d.done());
    std::error_code ec;
    CHECK(d.feed(std::string_view(wire).substr(i, 1), ec) == 1);
    REQUIRE_FALSE(ec);
  }
  REQUIRE(d.done());
  CHECK(d.frame().options == std::vector<std::uint32_t>{1, 13});
  CHECK(d.frame().payload == "informer.Listtrue");
}

TEST_CASE("two frames back to back: the decoder stops at the first boundary", "[protocol][frame]") {
  std::string wire;
  append_frame(wire, 0, {}, "one");
  const std::size_t first = wire.size();
  append_frame(wire, flags::kError, {}, "two");
  FrameDecoder d(1024);
  std::error_code ec;
  CHECK(d.feed(wire, ec) == first);
  REQUIRE(d.done());
  CHECK(d.frame().payload == "one");
  d.reset();
  CHECK(d.feed(std::string_view(wire).substr(first), ec) == wire.size() - first);
  REQUIRE(d.done());
  CHECK(d.frame().is_error());
  CHECK(d.frame().payload == "two");
}

TEST_CASE("empty payload frames complete without payload bytes", "[protocol][frame]") {
  std::string wire;
  append_frame(wire, 0, {}, "", stream_bits::kPong);
  FrameDecoder d(16);
  std::error_code ec;
  d.feed(wire, ec);
  REQUIRE(d.done());
  CHECK(d.frame().byte10 == stream_bits::kPong);
}

TEST_CASE("decoder errors", "[protocol][frame]") {
  std::string good;
  append_frame(good, 0, {}, "payload");
  std::error_code ec;

  SECTION("bad CRC") {
    std::string bad = good;
    bad[6] = static_cast<char>(bad[6] ^ 0x01);
    FrameDecoder d(1024);
    d.feed(bad, ec);
    CHECK(ec == ProtocolError::bad_crc);
  }
  SECTION("bad version") {
    std::string bad = good;
    bad[0] = 0x23;
    FrameDecoder d(1024);
    d.feed(bad, ec);
    CHECK(ec == ProtocolError::bad_version);
  }
  SECTION("header length below 3") {
    std::string bad = good;
    bad[0] = 0x12;
    FrameDecoder d(1024);
    d.feed(bad, ec);
    CHECK(ec == ProtocolError::bad_header_length);
  }
  SECTION("more than 10 options") {
    std::string bad = good;
    bad[0] = 0x1F;
    FrameDecoder d(1024);
    d.feed(bad, ec);
    CHECK(ec == ProtocolError::bad_header_length);
  }
  SECTION("payload over the maximum") {
    FrameDecoder d(3);
    d.feed(good, ec);
    CHECK(ec == ProtocolError::payload_too_large);
  }
  SECTION("PHP's Could not open input file") {
    FrameDecoder d(1024);
    d.feed("Could not open input file: worker.php\n", ec);
    CHECK(ec == ProtocolError::php_could_not_open);
  }
  SECTION("garbage text") {
    FrameDecoder d(1024);
    d.feed("<html>Fatal error</html>", ec);
    CHECK(ec);
  }
}

TEST_CASE("DataFrameBuilder writes a one-option request frame in place", "[protocol][frame]") {
  std::string buf;
  DataFrameBuilder::begin(buf);
  buf.append("{\"a\":1}");
  buf.append("BODY");
  DataFrameBuilder::finish(buf, flags::kCodecJson, 7);
  FrameDecoder d(1024);
  std::error_code ec;
  d.feed(buf, ec);
  REQUIRE(d.done());
  CHECK(static_cast<unsigned char>(buf[0]) == 0x14);
  CHECK(d.frame().options == std::vector<std::uint32_t>{7});
  CHECK(d.frame().payload == "{\"a\":1}BODY");
}
