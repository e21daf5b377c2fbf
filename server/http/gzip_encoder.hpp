#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <system_error>

struct z_stream_s;

namespace pivot::http {

/// The error category of zlib return codes (Z_MEM_ERROR, Z_STREAM_ERROR, …).
const std::error_category& zlib_category() noexcept;

/// A gzip stream (RFC 1952) over zlib's deflate that can be fed chunk by chunk, so the same class
/// serves a whole body (one write with Flush::finish) and a streamed response (one write with
/// Flush::sync per chunk: everything written so far decodes on the client, then Flush::finish
/// with an empty chunk for the trailer). Holds ~256 KiB of zlib state; not thread-safe.
class GzipEncoder {
 public:
  /// How a write ends.
  enum class Flush {
    none,    ///< keep buffering (more input follows, nothing needs to reach the client yet)
    sync,    ///< Z_SYNC_FLUSH: all input so far becomes decodable output (a streamed chunk)
    finish,  ///< Z_FINISH: end the stream with the gzip trailer (CRC32 and length)
  };

  /// Sets up deflate at `level` (1..9); a failure is reported by the first write().
  explicit GzipEncoder(int level);
  ~GzipEncoder();
  GzipEncoder(const GzipEncoder&) = delete;
  GzipEncoder& operator=(const GzipEncoder&) = delete;

  /// Compresses `in` and appends the produced bytes to `out`.
  std::error_code write(std::string_view in, std::string& out, Flush flush);
  /// Starts a new gzip stream, keeping zlib's allocations.
  std::error_code reset();
  /// True after a write with Flush::finish (until reset()).
  bool finished() const noexcept { return finished_; }

 private:
  std::unique_ptr<z_stream_s> zs_;
  int init_status_ = 0;
  bool finished_ = false;
};

}  // namespace pivot::http
