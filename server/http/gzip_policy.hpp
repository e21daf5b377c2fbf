#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/http_payload.hpp"
#include "server/config/config.hpp"

namespace pivot::http {

/// http.gzip's decisions, shared read-only by every session: does the client accept gzip, may this
/// response be compressed, and the header edits that go with it (Content-Encoding, Vary, ETag).
class GzipPolicy {
 public:
  /// Keeps a copy of the settings.
  explicit GzipPolicy(config::GzipConfig cfg);

  /// True when the request's Accept-Encoding accepts gzip: "gzip" / "x-gzip" with q > 0, or "*"
  /// with q > 0 when gzip is not named. "gzip;q=0" is a refusal.
  static bool accepts_gzip(std::span<const protocol::HeaderField> request_headers) noexcept;
  /// True when a body of this Content-Type may be compressed (not in exclude_types); parameters are
  /// ignored, a missing type counts as compressible, and a "type/*" entry never matches a +xml or
  /// +json subtype (image/svg+xml compresses well).
  bool compressible_type(std::string_view content_type) const noexcept;
  /// True when a worker's response may be compressed whatever the client says: not 1xx/204/206/304,
  /// at least min_length bytes, a compressible type, no Content-Encoding, no Cache-Control: no-transform.
  bool eligible(int status, std::span<const protocol::HeaderField> headers, std::size_t length) const noexcept;
  /// For a worker's response to a non-HEAD request: when eligible, adds Vary: Accept-Encoding; when
  /// the client also accepts gzip and the result is smaller, puts the gzip body into `out`, adds
  /// Content-Encoding: gzip, weakens a strong ETag and returns true. Otherwise the body goes as it is.
  bool compress_response(std::span<const protocol::HeaderField> request_headers, int status,
                         std::vector<protocol::HeaderField>& headers, std::string_view body, std::string& out) const;

  /// Adds Accept-Encoding to the Vary header (appending to an existing one, unless it is "*" or
  /// already names it).
  static void add_vary(std::vector<protocol::HeaderField>& headers);
  /// Turns a strong ETag "x" into W/"x": the compressed bytes are a different representation.
  static void weaken_etag(std::vector<protocol::HeaderField>& headers);

  /// zlib level 1..9.
  int level() const noexcept { return cfg_.level; }
  /// Bodies shorter than this are not compressed.
  std::uint64_t min_length() const noexcept { return cfg_.min_length; }
  /// Static files larger than this are sent uncompressed.
  std::uint64_t static_max_size() const noexcept { return cfg_.static_max_size; }

 private:
  config::GzipConfig cfg_;
};

}  // namespace pivot::http
