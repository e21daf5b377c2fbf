#include "server/http/gzip_encoder.hpp"

#include <zlib.h>

#include <algorithm>

namespace pivot::http {
namespace {

class ZlibCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "zlib"; }
  std::string message(int code) const override {
    switch (code) {
      case Z_MEM_ERROR: return "zlib: out of memory";
      case Z_STREAM_ERROR: return "zlib: invalid stream state or level";
      case Z_BUF_ERROR: return "zlib: no progress possible";
      case Z_VERSION_ERROR: return "zlib: incompatible library version";
      default: return "zlib error " + std::to_string(code);
    }
  }
};

std::error_code make_error(int code) { return {code, zlib_category()}; }

}  // namespace

const std::error_category& zlib_category() noexcept {
  static const ZlibCategory category;
  return category;
}

GzipEncoder::GzipEncoder(int level) : zs_(std::make_unique<z_stream_s>()) {
  // windowBits 15 + 16: a gzip header and trailer instead of zlib's.
  init_status_ = deflateInit2(zs_.get(), std::clamp(level, 1, 9), Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
}

GzipEncoder::~GzipEncoder() {
  if (init_status_ == Z_OK) deflateEnd(zs_.get());
}

std::error_code GzipEncoder::reset() {
  if (init_status_ != Z_OK) return make_error(init_status_);
  finished_ = false;
  const int rc = deflateReset(zs_.get());
  return rc == Z_OK ? std::error_code() : make_error(rc);
}

std::error_code GzipEncoder::write(std::string_view in, std::string& out, Flush flush) {
  if (init_status_ != Z_OK) return make_error(init_status_);
  if (finished_) return make_error(Z_STREAM_ERROR);
  const int mode = flush == Flush::finish ? Z_FINISH : flush == Flush::sync ? Z_SYNC_FLUSH : Z_NO_FLUSH;
  if (in.size() > 0xFFFFFFFFu) return make_error(Z_BUF_ERROR);  // avail_in is 32 bits; bodies are framed in u32 anyway
  z_stream& zs = *zs_;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  for (;;) {
    // Room for (about) everything this input can produce; grown when deflate fills it.
    const std::size_t used = out.size();
    const std::size_t room = std::max<std::size_t>(deflateBound(&zs, zs.avail_in) + 64, 4096);
    out.resize(used + room);
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + used);
    zs.avail_out = static_cast<uInt>(room);
    const int rc = deflate(&zs, mode);
    out.resize(used + (room - zs.avail_out));
    if (rc == Z_STREAM_END) {
      finished_ = true;
      return {};
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) return make_error(rc);
    // Done when all input is consumed and deflate had output room left over (nothing pending).
    if (zs.avail_in == 0 && zs.avail_out != 0 && mode != Z_FINISH) return {};
    if (rc == Z_BUF_ERROR && zs.avail_in == 0 && mode != Z_FINISH) return {};
  }
}

}  // namespace pivot::http
