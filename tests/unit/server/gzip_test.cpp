// http.gzip building blocks: the chunk-fed encoder (checked by inflating its output with zlib),
// Accept-Encoding, type exclusion, eligibility and the header edits.

#include <catch2/catch.hpp>

#include <zlib.h>

#include <string>
#include <vector>

#include "server/http/gzip_encoder.hpp"
#include "server/http/gzip_policy.hpp"

using namespace pivot::http;
using pivot::protocol::HeaderField;

namespace {

/// Inflates a gzip stream; `complete` tells whether it ended with a trailer.
std::string gunzip(const std::string& in, bool* complete = nullptr) {
  z_stream zs{};
  REQUIRE(inflateInit2(&zs, 15 + 16) == Z_OK);
  std::string out;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  int rc = Z_OK;
  char buf[16384];
  do {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof buf - zs.avail_out);
  } while (rc == Z_OK && (zs.avail_in > 0 || zs.avail_out == 0));
  if (complete != nullptr) *complete = rc == Z_STREAM_END;
  inflateEnd(&zs);
  return out;
}

std::string text(std::size_t n) {
  std::string s;
  while (s.size() < n) s += "the quick brown fox jumps over the lazy dog " + std::to_string(s.size() % 97) + "\n";
  s.resize(n);
  return s;
}

/// Headers as "Name: value" lines, for comparisons.
std::string lines(const std::vector<HeaderField>& hs) {
  std::string s;
  for (const auto& h : hs) s += h.name + ": " + h.value + "\n";
  return s;
}

GzipPolicy policy(std::uint64_t min_length = 100) {
  pivot::config::GzipConfig c;
  c.enabled = true;
  c.min_length = min_length;
  return GzipPolicy(c);
}

}  // namespace

TEST_CASE("gzip encoder: a whole body round-trips", "[http][gzip]") {
  const std::string in = text(300000);
  GzipEncoder enc(6);
  std::string out;
  REQUIRE_FALSE(enc.write(in, out, GzipEncoder::Flush::finish));
  CHECK(enc.finished());
  CHECK(out.size() < in.size() / 5);
  CHECK(static_cast<unsigned char>(out[0]) == 0x1f);
  CHECK(static_cast<unsigned char>(out[1]) == 0x8b);
  bool complete = false;
  CHECK(gunzip(out, &complete) == in);
  CHECK(complete);
  // Reset starts a fresh stream with the same state.
  REQUIRE_FALSE(enc.reset());
  std::string again;
  REQUIRE_FALSE(enc.write("", again, GzipEncoder::Flush::finish));
  CHECK(gunzip(again).empty());
  CHECK(enc.write("x", again, GzipEncoder::Flush::finish));  // nothing after finish
}

TEST_CASE("gzip encoder: fed chunk by chunk with sync flushes, each prefix decodes", "[http][gzip]") {
  GzipEncoder enc(1);
  std::string out;
  std::string sent;
  for (int i = 0; i < 10; ++i) {
    const std::string chunk = "chunk " + std::to_string(i) + ": " + text(5000 + static_cast<std::size_t>(i));
    const std::size_t before = out.size();
    REQUIRE_FALSE(enc.write(chunk, out, GzipEncoder::Flush::sync));
    CHECK(out.size() > before);  // a sync flush always emits
    sent += chunk;
    bool complete = true;
    CHECK(gunzip(out, &complete) == sent);  // the client can show everything so far
    CHECK_FALSE(complete);
  }
  REQUIRE_FALSE(enc.write({}, out, GzipEncoder::Flush::finish));
  bool complete = false;
  CHECK(gunzip(out, &complete) == sent);
  CHECK(complete);

  // Flush::none buffers; the result is the same stream content.
  GzipEncoder lazy(9);
  std::string out2;
  REQUIRE_FALSE(lazy.write(text(100000), out2, GzipEncoder::Flush::none));
  REQUIRE_FALSE(lazy.write(text(1000), out2, GzipEncoder::Flush::finish));
  CHECK(gunzip(out2) == text(100000) + text(1000));
}

TEST_CASE("Accept-Encoding: gzip, x-gzip, star, q=0 refusals", "[http][gzip]") {
  auto accepts = [](std::vector<HeaderField> hs) { return GzipPolicy::accepts_gzip(hs); };
  CHECK(accepts({{"Accept-Encoding", "gzip"}}));
  CHECK(accepts({{"Accept-Encoding", "deflate, gzip;q=1.0, br"}}));
  CHECK(accepts({{"accept-encoding", "GZIP"}}));
  CHECK(accepts({{"Accept-Encoding", "x-gzip"}}));
  CHECK(accepts({{"Accept-Encoding", "*"}}));
  CHECK(accepts({{"Accept-Encoding", "gzip;q=0.001"}}));
  CHECK(accepts({{"Accept-Encoding", "br"}, {"Accept-Encoding", "gzip"}}));
  CHECK_FALSE(accepts({}));
  CHECK_FALSE(accepts({{"Accept-Encoding", "identity"}}));
  CHECK_FALSE(accepts({{"Accept-Encoding", "br, deflate"}}));
  CHECK_FALSE(accepts({{"Accept-Encoding", "gzip;q=0"}}));
  CHECK_FALSE(accepts({{"Accept-Encoding", "gzip; q=0.000"}}));
  CHECK_FALSE(accepts({{"Accept-Encoding", "*, gzip;q=0"}}));
  CHECK_FALSE(accepts({{"Accept-Encoding", "*;q=0"}}));
  CHECK_FALSE(accepts({{"Accept-Encoding", "gzipped"}}));
}

TEST_CASE("gzip: types, statuses, lengths, Content-Encoding, no-transform", "[http][gzip]") {
  const GzipPolicy p = policy(100);
  CHECK(p.compressible_type("text/html; charset=utf-8"));
  CHECK(p.compressible_type("application/json"));
  CHECK(p.compressible_type(""));
  CHECK(p.compressible_type("image/svg+xml"));  // a wildcard never hits +xml / +json
  CHECK_FALSE(p.compressible_type("image/png"));
  CHECK_FALSE(p.compressible_type("IMAGE/JPEG"));
  CHECK_FALSE(p.compressible_type("video/mp4"));
  CHECK_FALSE(p.compressible_type("application/zip"));
  CHECK_FALSE(p.compressible_type("application/gzip ; foo=bar"));
  CHECK_FALSE(p.compressible_type("font/woff2"));

  const std::vector<HeaderField> html{{"Content-Type", "text/html"}};
  CHECK(p.eligible(200, html, 100));
  CHECK(p.eligible(404, html, 5000));
  CHECK_FALSE(p.eligible(200, html, 99));
  CHECK_FALSE(p.eligible(204, html, 5000));
  CHECK_FALSE(p.eligible(206, html, 5000));
  CHECK_FALSE(p.eligible(304, html, 5000));
  CHECK_FALSE(p.eligible(103, html, 5000));
  CHECK_FALSE(p.eligible(200, std::vector<HeaderField>{{"Content-Type", "image/png"}}, 5000));
  CHECK_FALSE(p.eligible(200, std::vector<HeaderField>{{"Content-Type", "text/html"}, {"content-encoding", "br"}}, 5000));
  CHECK_FALSE(p.eligible(200, std::vector<HeaderField>{{"Cache-Control", "public, no-transform"}}, 5000));
  CHECK(p.eligible(200, std::vector<HeaderField>{{"Cache-Control", "public"}}, 5000));
}

TEST_CASE("gzip: a worker response is compressed with Vary, Content-Encoding and a weak ETag", "[http][gzip]") {
  const GzipPolicy p = policy(100);
  const std::string body = text(20000);
  const std::vector<HeaderField> gz_client{{"Accept-Encoding", "gzip, deflate"}};
  std::vector<HeaderField> hs{{"Content-Type", "text/plain"}, {"ETag", "\"v1\""}, {"vary", "Cookie"}};
  std::string out;
  REQUIRE(p.compress_response(gz_client, 200, hs, body, out));
  CHECK(gunzip(out) == body);
  CHECK(lines(hs) == lines(std::vector<HeaderField>{{"Content-Type", "text/plain"}, {"ETag", "W/\"v1\""}, {"vary", "Cookie, Accept-Encoding"},
                                        {"Content-Encoding", "gzip"}}));

  // A client without gzip: identity, but Vary all the same.
  std::vector<HeaderField> plain{{"Content-Type", "text/plain"}};
  CHECK_FALSE(p.compress_response({}, 200, plain, body, out));
  CHECK(lines(plain) == lines(std::vector<HeaderField>{{"Content-Type", "text/plain"}, {"Vary", "Accept-Encoding"}}));

  // Not eligible: no header is touched.
  std::vector<HeaderField> small{{"Content-Type", "text/plain"}};
  CHECK_FALSE(p.compress_response(gz_client, 200, small, "tiny", out));
  CHECK(small.size() == 1);
  std::vector<HeaderField> png{{"Content-Type", "image/png"}};
  CHECK_FALSE(p.compress_response(gz_client, 200, png, body, out));
  CHECK(png.size() == 1);

  // Incompressible bytes that would grow: sent as they are (with Vary).
  std::string noise(5000, '\0');
  std::uint32_t x = 12345;
  for (auto& c : noise) {
    x = x * 1103515245 + 12345;
    c = static_cast<char>(x >> 24);
  }
  std::vector<HeaderField> bin{{"Content-Type", "application/octet-stream"}};
  CHECK_FALSE(p.compress_response(gz_client, 200, bin, noise, out));
  CHECK(bin.back().name == "Vary");

  // Vary: * or one that already names Accept-Encoding is left alone.
  std::vector<HeaderField> star{{"Vary", "*"}};
  GzipPolicy::add_vary(star);
  CHECK(lines(star) == lines(std::vector<HeaderField>{{"Vary", "*"}}));
  std::vector<HeaderField> named{{"Vary", "accept-encoding, Cookie"}};
  GzipPolicy::add_vary(named);
  CHECK(named.size() == 1);
  CHECK(named[0].value == "accept-encoding, Cookie");
  std::vector<HeaderField> weak{{"ETag", "W/\"a\""}};
  GzipPolicy::weaken_etag(weak);
  CHECK(weak[0].value == "W/\"a\"");
}
