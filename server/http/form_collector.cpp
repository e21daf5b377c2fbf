#include "server/http/form_collector.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "protocol/form_error.hpp"
#include "protocol/json_writer.hpp"

namespace pivot::http {
namespace {

// Memory charged per part on top of its name and value, so a body of millions of tiny fields
// is bounded by max_request_size like one big field.
constexpr std::size_t kPartOverhead = 64;
constexpr std::size_t kWriteBuffer = 64 * 1024;

char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

bool icontains(std::string_view hay, std::string_view needle) noexcept {
  if (needle.size() > hay.size()) return false;
  for (std::size_t i = 0; i + needle.size() <= hay.size(); ++i) {
    if (iequals(hay.substr(i, needle.size()), needle)) return true;
  }
  return false;
}

/// Go's path.Ext: the suffix from the last dot of the last element, lower-cased ("" if none).
std::string extension_of(std::string_view filename) {
  std::string ext;
  for (std::size_t i = filename.size(); i-- > 0;) {
    if (filename[i] == '/') break;
    if (filename[i] == '.') {
      ext.assign(filename.substr(i));
      break;
    }
  }
  std::transform(ext.begin(), ext.end(), ext.begin(), lower);
  return ext;
}

}  // namespace

FormCollector::FormCollector(const config::HttpConfig& cfg, std::shared_ptr<spdlog::logger> log)
    : cfg_(cfg), log_(std::move(log)) {}

FormCollector::~FormCollector() { reset(); }

RequestParser::BodySink::Decision FormCollector::on_headers(const HttpRequest& req) {
  kind_ = Kind::none;
  if (cfg_.raw_body || req.method == "HEAD" || req.method == "OPTIONS") return Decision::buffer;
  const protocol::HeaderField* content_type = nullptr;
  for (const auto& h : req.headers) {
    if (h.name == "Content-Type") {
      content_type = &h;
      break;
    }
  }
  if (content_type == nullptr) return Decision::buffer;
  if (icontains(content_type->value, "application/x-www-form-urlencoded")) {
    reset();
    kind_ = Kind::urlencoded;
    return Decision::buffer;
  }
  if (!icontains(content_type->value, "multipart/form-data")) return Decision::buffer;
  reset();
  kind_ = Kind::multipart;
  std::string boundary;
  if (!protocol::MultipartParser::boundary_from_content_type(content_type->value, boundary) || !multipart_.reset(boundary)) {
    fail(400, "multipart/form-data without a valid boundary parameter");
    return Decision::reject;
  }
  return Decision::stream;
}

bool FormCollector::fail(int status, std::string reason) {
  error_status_ = status;
  error_reason_ = std::move(reason);
  return false;
}

bool FormCollector::on_body(std::string_view data) {
  body_seen_ = true;
  error_reason_.clear();
  if (auto ec = multipart_.feed(data, *this)) {
    if (!error_reason_.empty()) return false;  // a handler set a more precise status
    return fail(400, ec.message());
  }
  return true;
}

bool FormCollector::charge(std::size_t bytes) {
  used_ += bytes;
  if (used_ <= cfg_.max_request_size) return true;
  return fail(413, "form fields exceed http.max_request_size");
}

bool FormCollector::extension_allowed(std::string_view filename) const {
  const std::string ext = extension_of(filename);
  const auto& forbid = cfg_.uploads.forbid;
  if (std::find(forbid.begin(), forbid.end(), ext) != forbid.end()) return false;
  const auto& allow = cfg_.uploads.allow;
  return allow.empty() || std::find(allow.begin(), allow.end(), ext) != allow.end();
}

std::error_code FormCollector::on_part_begin(const protocol::MultipartPart& part) {
  if (!charge(kPartOverhead + part.name.size() + part.filename.size() + part.content_type.size())) {
    return protocol::FormError::bad_multipart;
  }
  if (!part.form_data) {
    current_ = Current::skip;  // not a form field (no name): ignored, as Go does
    return {};
  }
  current_name_ = part.name;
  if (!part.has_filename) {
    current_ = Current::value;
    values_.emplace_back();
    return {};
  }
  if (cfg_.uploads.max_files != 0 && files_.size() >= cfg_.uploads.max_files) {
    fail(413, "more file parts than http.uploads.max_files (" + std::to_string(cfg_.uploads.max_files) + ")");
    return protocol::FormError::bad_multipart;
  }
  current_ = Current::file;
  File& f = files_.emplace_back();
  f.client_name = part.filename;
  f.mime = part.content_type;
  if (part.filename.empty()) {
    f.error = kNoFile;  // an empty file input: PHP's UPLOAD_ERR_NO_FILE
  } else if (!extension_allowed(part.filename)) {
    f.error = kExtension;
  } else {
    open_temp(f);
  }
  return {};
}

void FormCollector::open_temp(File& f) {
  if (dir_.empty()) {
    if (!cfg_.uploads.dir.empty()) {
      dir_ = cfg_.uploads.dir;
    } else {
      std::error_code ec;
      dir_ = std::filesystem::temp_directory_path(ec).string();
      if (ec || dir_.empty()) dir_ = "/tmp";
    }
    while (dir_.size() > 1 && dir_.back() == '/') dir_.pop_back();
  }
  std::string path = dir_ + "/uploadXXXXXX";
  const int fd = ::mkostemp(path.data(), O_CLOEXEC);  // mode 0600
  if (fd < 0) {
    const int err = errno;
    f.error = kNoTmpDir;
    if (log_) {
      log_->warn("event=upload_failed reason=\"cannot create a temp file in http.uploads.dir\" dir=\"{}\" error=\"{}\"", dir_,
                 std::strerror(err));
    }
    return;
  }
  f.fd = fd;
  f.path = std::move(path);
}

void FormCollector::drop_temp(File& f, int error) {
  if (f.fd >= 0) ::close(f.fd);
  f.fd = -1;
  if (!f.path.empty()) ::unlink(f.path.c_str());
  f.path.clear();
  f.size = 0;
  f.error = error;
  write_buf_.clear();
}

bool FormCollector::write_all(File& f, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(f.fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      if (log_) log_->warn("event=upload_failed reason=\"cannot write a temp file\" path=\"{}\" error=\"{}\"", f.path, std::strerror(err));
      drop_temp(f, kCantWrite);
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool FormCollector::flush(File& f) {
  if (write_buf_.empty() || f.fd < 0) return true;
  const bool ok = write_all(f, write_buf_);
  write_buf_.clear();
  return ok;
}

std::error_code FormCollector::on_part_data(std::string_view data) {
  switch (current_) {
    case Current::none:
    case Current::skip:
      return {};
    case Current::value:
      if (!charge(data.size())) return protocol::FormError::bad_multipart;
      values_.back().append(data);
      return {};
    case Current::file:
      break;
  }
  File& f = files_.back();
  if (f.fd < 0) return {};  // refused or failed: the bytes are discarded
  if (cfg_.uploads.max_file_size != 0 && f.size + data.size() > cfg_.uploads.max_file_size) {
    drop_temp(f, kIniSize);
    return {};
  }
  f.size += data.size();
  if (write_buf_.size() + data.size() > kWriteBuffer && !flush(f)) return {};
  if (data.size() >= kWriteBuffer) {
    write_all(f, data);
  } else {
    if (write_buf_.capacity() < kWriteBuffer) write_buf_.reserve(kWriteBuffer);
    write_buf_.append(data);
  }
  return {};
}

std::error_code FormCollector::on_part_end() {
  switch (current_) {
    case Current::value:
      data_tree_.add(current_name_, static_cast<std::uint32_t>(values_.size() - 1), values_.back().empty());
      break;
    case Current::file: {
      File& f = files_.back();
      if (f.fd >= 0 && flush(f)) {
        ::close(f.fd);
        f.fd = -1;
      }
      files_tree_.add(current_name_, static_cast<std::uint32_t>(files_.size() - 1), false);
      break;
    }
    case Current::none:
    case Current::skip:
      break;
  }
  current_ = Current::none;
  return {};
}

bool FormCollector::finish(const HttpRequest& req) {
  if (kind_ == Kind::urlencoded) {
    if (protocol::parse_urlencoded(req.body, data_tree_, values_)) {
      return fail(400, "malformed %-escape in the urlencoded form body");
    }
  } else if (kind_ == Kind::multipart && body_seen_ && !multipart_.done()) {
    return fail(400, "multipart body ended before its closing boundary");
  }
  std::string message;
  if (data_tree_.build(message)) return fail(500, message);
  if (files_tree_.build(message)) return fail(500, message);
  body_json_.clear();
  if (!data_tree_.empty()) {
    data_tree_.append_json(body_json_, [this](std::string& out, std::uint32_t v) { protocol::append_json_string(out, values_[v]); });
  }
  uploads_json_.clear();
  if (!files_tree_.empty()) {
    files_tree_.append_json(uploads_json_, [this](std::string& out, std::uint32_t i) {
      const File& f = files_[i];
      out.append("{\"name\":");
      protocol::append_json_string(out, f.client_name);
      out.append(",\"mime\":");
      protocol::append_json_string(out, f.mime);
      out.append(",\"size\":");
      protocol::append_json_int(out, static_cast<std::int64_t>(f.size));
      out.append(",\"error\":");
      protocol::append_json_int(out, f.error);
      out.append(",\"tmpName\":");
      protocol::append_json_string(out, f.path);
      out.push_back('}');
    });
  }
  return true;
}

std::size_t FormCollector::temp_files() const noexcept {
  return static_cast<std::size_t>(std::count_if(files_.begin(), files_.end(), [](const File& f) { return !f.path.empty(); }));
}

void FormCollector::reset() {
  for (auto& f : files_) {
    if (f.fd >= 0) ::close(f.fd);
    if (!f.path.empty()) ::unlink(f.path.c_str());
  }
  files_.clear();
  values_.clear();
  data_tree_.clear();
  files_tree_.clear();
  write_buf_.clear();
  current_ = Current::none;
  used_ = 0;
  body_seen_ = false;
  body_json_.clear();
  uploads_json_.clear();
  kind_ = Kind::none;
  error_status_ = 400;
  error_reason_.clear();
}

}  // namespace pivot::http
