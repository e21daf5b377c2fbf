#include "server/http/static_responder.hpp"

#include <unistd.h>
#include <zlib.h>

#include <asio/post.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "protocol/json_writer.hpp"
#include "server/http/byte_range.hpp"
#include "server/http/gzip_encoder.hpp"
#include "server/http/http_date.hpp"
#include "server/http/mime_types.hpp"

namespace pivot::http {
namespace {

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return (x | 0x20) == (y | 0x20); });
}

void append_number(std::string& out, std::uint64_t v) {
  char buf[24];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  out.append(buf, end);
}

std::string quoted(std::string_view s) {
  std::string out;
  protocol::append_json_string(out, s);
  return out;
}

/// Lets the other connections of this io_context run between two chunks of CPU or disk work.
asio::awaitable<void> yield_to_loop() { co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable); }

/// The opaque part of an entity tag (W/"x" -> "x"), quotes included.
std::string_view opaque(std::string_view tag) noexcept { return tag.starts_with("W/") ? tag.substr(2) : tag; }

/// Reads up to `n` bytes at `offset`, retrying on EINTR; -1 on error.
ssize_t read_at(int fd, char* buf, std::size_t n, std::uint64_t offset) {
  for (;;) {
    const ssize_t r = ::pread(fd, buf, n, static_cast<off_t>(offset));
    if (r >= 0 || errno != EINTR) return r;
  }
}

constexpr std::string_view kRangeNotSatisfiable = "Range Not Satisfiable\n";
constexpr std::string_view kNotFound = "Not Found\n";

}  // namespace

bool etag_matches(std::string_view if_none_match, std::string_view etag) noexcept {
  if (etag.empty()) return false;
  const std::string_view want = opaque(etag);
  std::size_t i = 0;
  while (i < if_none_match.size()) {
    const char c = if_none_match[i];
    if (c == ' ' || c == '\t' || c == ',') {
      ++i;
      continue;
    }
    if (c == '*') return true;
    std::size_t start = i;
    if (if_none_match.compare(i, 2, "W/") == 0) i += 2;
    if (i >= if_none_match.size() || if_none_match[i] != '"') return false;  // malformed: stop looking
    const std::size_t close = if_none_match.find('"', i + 1);
    if (close == std::string_view::npos) return false;
    if (opaque(if_none_match.substr(start, close + 1 - start)) == want) return true;
    i = close + 1;
  }
  return false;
}

StaticResponder::StaticResponder(const StaticFiles& files, const GzipPolicy* gzip, std::shared_ptr<spdlog::logger> log)
    : files_(files), gzip_(gzip), log_(std::move(log)) {}

StaticResponder::~StaticResponder() = default;

char* StaticResponder::buffer() {
  if (!buf_) buf_ = std::make_unique<char[]>(kChunk);
  return buf_.get();
}

asio::awaitable<StaticResponder::Result> StaticResponder::serve(const HttpRequest& req, const ResponseHeadOptions& base,
                                                                const WriteFn& write) {
  Result res;
  std::string_view reason;
  const auto verdict = files_.open(req, path_, file_, reason);
  if (verdict == StaticFiles::Verdict::fall_through) co_return res;
  res.served = true;
  // The descriptor is closed when this answer is done, whatever path it takes.
  struct CloseFile {
    StaticFile& f;
    ~CloseFile() { f.close(); }
  } close_file{file_};
  const bool head_only = req.method == "HEAD";
  ResponseHeadOptions opts = base;
  headers_.clear();
  head_.clear();

  if (verdict == StaticFiles::Verdict::reject) {
    log_->info("event=static_path_rejected method={} target={} reason={}", req.method, quoted(req.target), quoted(reason));
    headers_.push_back({"Content-Type", "text/plain; charset=utf-8"});
    opts.status = 404;
    opts.content_length = kNotFound.size();
    append_response_head(head_, opts, headers_);
    res.status = 404;
    res.body_bytes = head_only ? 0 : kNotFound.size();
    res.ok = co_await write({asio::buffer(head_), asio::buffer(kNotFound.data(), res.body_bytes)});
    co_return res;
  }

  const std::uint64_t size = file_.version.size;
  const auto& cfg = files_.config();
  etag_.clear();
  if (cfg.calculate_etag && cfg.weak) {
    // From metadata, as RoadRunner's weak ETag: no read, changes with size or mtime.
    etag_.append("W/\"");
    append_number(etag_, size);
    etag_.push_back('-');
    append_number(etag_, static_cast<std::uint64_t>(file_.mtime));
    etag_.push_back('.');
    append_number(etag_, static_cast<std::uint64_t>(file_.mtime_nsec));
    etag_.push_back('"');
  } else if (cfg.calculate_etag) {
    // "size-crc32" of the content, computed once per file version.
    std::uint32_t crc = 0;
    if (auto cached = files_.etags().find(path_.relative, file_.version)) {
      crc = *cached;
    } else if (co_await content_crc(crc)) {
      files_.etags().store(path_.relative, file_.version, crc);
    } else {
      log_->warn("event=static_read_failed path={} error={}", quoted(path_.relative), quoted(std::strerror(errno)));
      crc = 0;
    }
    etag_.push_back('"');
    append_number(etag_, size);
    etag_.push_back('-');
    append_number(etag_, crc);
    etag_.push_back('"');
  }

  // Conditional requests (RFC 9110 §13.2.2): If-None-Match wins over If-Modified-Since.
  int status = 200;
  if (const auto inm = files_.request_header(req, "If-None-Match"); !inm.empty()) {
    if (etag_matches(inm, etag_) || (etag_.empty() && inm.find('*') != std::string_view::npos)) status = 304;
  } else if (const auto ims = files_.request_header(req, "If-Modified-Since"); !ims.empty()) {
    std::time_t since = 0;
    if (parse_http_date(ims, since) && file_.mtime <= since) status = 304;
  }

  ByteRange range{0, size == 0 ? 0 : size - 1};
  if (status == 200) {
    if (const auto r = files_.request_header(req, "Range"); !r.empty()) {
      bool use_range = true;
      if (const auto ir = files_.request_header(req, "If-Range"); !ir.empty()) {
        if (ir.starts_with('"')) {
          use_range = !etag_.empty() && !etag_.starts_with("W/") && ir == etag_;
        } else {
          std::time_t when = 0;
          use_range = parse_http_date(ir, when) && when == file_.mtime;
        }
      }
      if (use_range) {
        const auto rr = parse_byte_range(r, size, range);
        if (rr == RangeRequest::single) status = 206;
        if (rr == RangeRequest::unsatisfiable) status = 416;
      }
    }
  }

  const std::string_view type = mime_type_for(path_.extension);
  // gzip: a file that some client would get compressed carries Vary on every answer (200, 206,
  // 304); it is compressed for a full GET from a client that accepts gzip.
  const bool gzip_eligible = gzip_ != nullptr && gzip_->compressible_type(type) && size >= gzip_->min_length() && size > 0 &&
                             size <= gzip_->static_max_size();
  bool accepts_gzip = false;
  if (gzip_eligible) {
    if (const auto ae = files_.request_header(req, "Accept-Encoding"); !ae.empty()) {
      const protocol::HeaderField f{"Accept-Encoding", std::string(ae)};
      accepts_gzip = GzipPolicy::accepts_gzip(std::span<const protocol::HeaderField>(&f, 1));
    }
  }
  bool compressed = false;
  if (accepts_gzip && status == 200 && !head_only) {
    if (co_await compress_file(gz_)) {
      compressed = gz_.size() < size;
    } else {
      log_->warn("event=static_gzip_failed path={} error={}", quoted(path_.relative), quoted(std::strerror(errno)));
    }
  }

  std::string last_modified;
  append_http_date(last_modified, file_.mtime);
  if (status == 416) {
    std::string cr = "bytes */";
    append_number(cr, size);
    headers_.push_back({"Content-Type", "text/plain; charset=utf-8"});
    headers_.push_back({"Content-Range", std::move(cr)});
  } else {
    if (status != 304) headers_.push_back({"Content-Type", std::string(type)});
    headers_.push_back({"Last-Modified", std::move(last_modified)});
    if (!etag_.empty()) headers_.push_back({"ETag", etag_});
    if (status != 304) headers_.push_back({"Accept-Ranges", "bytes"});
    if (status == 206) {
      std::string cr = "bytes ";
      append_number(cr, range.first);
      cr.push_back('-');
      append_number(cr, range.last);
      cr.push_back('/');
      append_number(cr, size);
      headers_.push_back({"Content-Range", std::move(cr)});
    }
    if (compressed) headers_.push_back({"Content-Encoding", "gzip"});
    // The ETag of a gzip answer is weak; a 304 for such a client repeats the tag its 200 had.
    if (compressed || (status == 304 && accepts_gzip)) GzipPolicy::weaken_etag(headers_);
    if (gzip_eligible) GzipPolicy::add_vary(headers_);
  }
  apply_response_headers();

  opts.status = status;
  res.status = status;
  if (status == 304) {
    append_response_head(head_, opts, headers_);
    res.ok = co_await write({asio::buffer(head_), asio::const_buffer()});
    co_return res;
  }
  if (status == 416) {
    opts.content_length = kRangeNotSatisfiable.size();
    append_response_head(head_, opts, headers_);
    res.body_bytes = head_only ? 0 : kRangeNotSatisfiable.size();
    res.ok = co_await write({asio::buffer(head_), asio::buffer(kRangeNotSatisfiable.data(), res.body_bytes)});
    co_return res;
  }
  if (compressed) {
    opts.content_length = gz_.size();
    append_response_head(head_, opts, headers_);
    res.body_bytes = gz_.size();
    res.ok = co_await write({asio::buffer(head_), asio::buffer(gz_)});
    if (gz_.capacity() > 4 * kChunk) std::string().swap(gz_);  // do not keep a big file's worth per idle connection
    co_return res;
  }
  const std::uint64_t length = size == 0 ? 0 : range.length();
  opts.content_length = length;
  append_response_head(head_, opts, headers_);
  if (head_only || length == 0) {
    res.ok = co_await write({asio::buffer(head_), asio::const_buffer()});
    co_return res;
  }
  Result body = co_await send_body(range.first, length, write);
  body.served = true;
  body.status = status;
  co_return body;
}

void StaticResponder::apply_response_headers() {
  // http.static.response replaces a header of ours with the same name (as RoadRunner sets them
  // before Go's file server fills in the rest), except the ones that describe the bytes sent.
  for (const auto& h : files_.response_headers()) {
    bool replaced = false;
    if (!iequals(h.name, "Content-Range") && !iequals(h.name, "Content-Encoding") && !iequals(h.name, "Last-Modified")) {
      for (auto& mine : headers_) {
        if (iequals(mine.name, h.name)) {
          mine.value = h.value;
          replaced = true;
          break;
        }
      }
    }
    if (!replaced) headers_.push_back(h);
  }
}

asio::awaitable<StaticResponder::Result> StaticResponder::send_body(std::uint64_t offset, std::uint64_t length, const WriteFn& write) {
  Result res;
  char* buf = buffer();
  bool first = true;
  while (length > 0) {
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, length));
    const ssize_t n = read_at(file_.fd, buf, want, offset);
    if (n <= 0) {
      // The file shrank or failed under us after Content-Length went out: the only honest end
      // is to close the connection.
      log_->warn("event=static_read_failed path={} offset={} error={}", quoted(path_.relative), offset,
                 quoted(n == 0 ? "file shrank while being sent" : std::strerror(errno)));
      if (first) (void)co_await write({asio::buffer(head_), asio::const_buffer()});
      res.ok = false;
      co_return res;
    }
    const auto got = static_cast<std::size_t>(n);
    const bool ok = first ? co_await write({asio::buffer(head_), asio::buffer(buf, got)})
                          : co_await write({asio::buffer(buf, got), asio::const_buffer()});
    if (!ok) {
      res.ok = false;
      co_return res;
    }
    first = false;
    res.body_bytes += got;
    offset += got;
    length -= got;
  }
  co_return res;
}

asio::awaitable<bool> StaticResponder::content_crc(std::uint32_t& crc) {
  char* buf = buffer();
  uLong c = crc32(0L, Z_NULL, 0);
  std::uint64_t offset = 0;
  for (;;) {
    const ssize_t n = read_at(file_.fd, buf, kChunk, offset);
    if (n < 0) co_return false;
    if (n == 0) break;
    c = crc32(c, reinterpret_cast<const Bytef*>(buf), static_cast<uInt>(n));
    offset += static_cast<std::uint64_t>(n);
    if (offset < file_.version.size) co_await yield_to_loop();
  }
  crc = static_cast<std::uint32_t>(c);
  co_return true;
}

asio::awaitable<bool> StaticResponder::compress_file(std::string& out) {
  out.clear();
  char* buf = buffer();
  GzipEncoder enc(gzip_->level());
  std::uint64_t offset = 0;
  const std::uint64_t size = file_.version.size;
  while (offset < size) {
    const ssize_t n = read_at(file_.fd, buf, static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, size - offset)), offset);
    if (n < 0) co_return false;
    if (n == 0) break;  // shrank since fstat: compress what is there
    offset += static_cast<std::uint64_t>(n);
    if (enc.write(std::string_view(buf, static_cast<std::size_t>(n)), out, GzipEncoder::Flush::none)) co_return false;
    if (offset < size) co_await yield_to_loop();
  }
  co_return !enc.write({}, out, GzipEncoder::Flush::finish);
}

}  // namespace pivot::http
