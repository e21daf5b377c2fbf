#pragma once

#include <spdlog/logger.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/form_tree.hpp"
#include "protocol/multipart_parser.hpp"
#include "server/config/config.hpp"
#include "server/http/request_parser.hpp"

namespace pivot::http {

/// Turns form bodies into RoadRunner's parsed JSON body and uploads tree (protocol doc §3.3,
/// §3.4). Urlencoded bodies are buffered by the parser (bounded by max_request_size) and parsed
/// at the end; multipart bodies stream through MultipartParser as they arrive, file parts go
/// straight to `upload*` temp files (mkostemp, mode 0600) and never sit in memory. Owns those
/// files: reset() and the destructor delete them. One per session, used on its strand.
class FormCollector final : public RequestParser::BodySink, private protocol::MultipartParser::Handler {
 public:
  /// What the body of the current request is.
  enum class Kind { none, urlencoded, multipart };

  /// PHP's UPLOAD_ERR_* codes we report.
  enum UploadError : int { kOk = 0, kIniSize = 1, kNoFile = 4, kNoTmpDir = 6, kCantWrite = 7, kExtension = 8 };

  /// Reads raw_body, uploads and max_request_size from `cfg` (which must outlive it); `log`
  /// (may be null) gets a line when a temp file cannot be created or written.
  FormCollector(const config::HttpConfig& cfg, std::shared_ptr<spdlog::logger> log);
  ~FormCollector() override;
  FormCollector(const FormCollector&) = delete;
  FormCollector& operator=(const FormCollector&) = delete;

  /// RequestParser::BodySink: urlencoded bodies are buffered, multipart ones streamed here.
  Decision on_headers(const HttpRequest& req) override;
  /// RequestParser::BodySink: the next bytes of a multipart body.
  bool on_body(std::string_view data) override;
  /// 400 (malformed), 413 (form fields over max_request_size) or 500 (key conflict).
  int error_status() const noexcept override { return error_status_; }
  /// What went wrong, for the log (RoadRunner's text for conflicts).
  const std::string& error_reason() const noexcept override { return error_reason_; }

  /// The kind decided for the current request.
  Kind kind() const noexcept { return kind_; }
  /// Once the whole body is in: parses (urlencoded) and builds the trees. False with
  /// error_status()/error_reason() when the form is malformed or has conflicting keys.
  bool finish(const HttpRequest& req);
  /// The JSON body for PHP; empty when the form has no field. Valid after finish().
  std::string_view body_json() const noexcept { return body_json_; }
  /// The uploads tree JSON; empty when the request had no file part. Valid after finish().
  std::string_view uploads_json() const noexcept { return uploads_json_; }
  /// Temp files currently on disk.
  std::size_t temp_files() const noexcept;
  /// Deletes the temp files and forgets the request, keeping capacity.
  void reset();

 private:
  struct File {
    std::string client_name;
    std::string mime;
    std::uint64_t size = 0;
    int error = kOk;
    std::string path;  // empty when no temp file exists
    int fd = -1;
  };
  enum class Current { none, skip, value, file };

  std::error_code on_part_begin(const protocol::MultipartPart& part) override;
  std::error_code on_part_data(std::string_view data) override;
  std::error_code on_part_end() override;

  bool charge(std::size_t bytes);
  bool extension_allowed(std::string_view filename) const;
  void open_temp(File& f);
  bool write_all(File& f, std::string_view data);
  bool flush(File& f);
  void drop_temp(File& f, int error);
  bool fail(int status, std::string reason);

  const config::HttpConfig& cfg_;
  std::shared_ptr<spdlog::logger> log_;
  std::string dir_;  // resolved uploads dir, on first use
  Kind kind_ = Kind::none;
  protocol::MultipartParser multipart_;
  protocol::FormTree data_tree_{protocol::FormTree::Repeat::keep_last};
  protocol::FormTree files_tree_{protocol::FormTree::Repeat::keep_first};
  std::vector<std::string> values_;
  std::vector<File> files_;
  Current current_ = Current::none;
  std::string current_name_;
  std::string write_buf_;
  std::uint64_t used_ = 0;  // memory charged to the form (names, values, per-part overhead)
  bool body_seen_ = false;
  std::string body_json_;
  std::string uploads_json_;
  int error_status_ = 400;
  std::string error_reason_;
};

}  // namespace pivot::http
