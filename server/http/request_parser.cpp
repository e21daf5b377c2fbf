#include "server/http/request_parser.hpp"

#include <llhttp.h>

#include <algorithm>
#include <cstring>

namespace pivot::http {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x | 0x20) == (y | 0x20);
         });
}

/// RFC 9110 tchar.
bool is_tchar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

/// Go's httpguts.ValidHostHeader: the bytes a Host value may hold (RoadRunner answers 400 otherwise).
bool valid_host(std::string_view host) {
  return std::all_of(host.begin(), host.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("!$%&'()*+,-.:;=[]_~").find(c) != std::string_view::npos;
  });
}

/// Checks the Transfer-Encoding lines of a request (joined with ','): 0 when they are exactly one
/// "chunked" (all Go, so RoadRunner, decodes); 400 when chunked is not the final coding (the
/// body length is unknown, RFC 9112 §6.3); 501 for another coding before chunked (§6.1).
int check_transfer_codings(std::string_view codings) {
  std::size_t count = 0;
  std::string_view last;
  while (!codings.empty()) {
    const auto comma = codings.find(',');
    std::string_view c = codings.substr(0, comma);
    while (!c.empty() && (c.front() == ' ' || c.front() == '\t')) c.remove_prefix(1);
    while (!c.empty() && (c.back() == ' ' || c.back() == '\t')) c.remove_suffix(1);
    if (!c.empty()) {
      ++count;
      last = c;
    }
    codings = comma == std::string_view::npos ? std::string_view() : codings.substr(comma + 1);
  }
  if (!iequals(last, "chunked")) return 400;
  return count == 1 ? 0 : 501;
}

/// True when `line` is a well-formed request line (`token SP target SP HTTP/d.d CRLF`): an
/// unknown method in it is 501 Not Implemented (RFC 9110 §9.1), anything else malformed is 400.
bool well_formed_request_line(std::string_view line) {
  const auto sp = line.find(' ');
  if (sp == 0 || sp == std::string_view::npos || !std::all_of(line.begin(), line.begin() + sp, is_tchar)) return false;
  line.remove_prefix(sp + 1);
  const auto sp2 = line.find(' ');
  if (sp2 == 0 || sp2 == std::string_view::npos) return false;
  if (std::any_of(line.begin(), line.begin() + sp2, [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; })) {
    return false;
  }
  line.remove_prefix(sp2 + 1);
  return line.size() >= 9 && line.starts_with("HTTP/") && line[5] >= '0' && line[5] <= '9' && line[6] == '.' &&
         line[7] >= '0' && line[7] <= '9' && (line.substr(8).starts_with("\r\n") || line[8] == '\n');
}

}  // namespace

struct RequestParser::Callbacks {
  static RequestParser& self(llhttp_t* p) { return *static_cast<RequestParser*>(p->data); }

  static int on_message_begin(llhttp_t* p) {
    auto& s = self(p);
    s.req_.clear();
    s.field_.clear();
    s.value_.clear();
    s.in_value_ = false;
    s.in_message_ = true;
    s.has_content_length_ = false;
    s.has_transfer_encoding_ = false;
    s.has_version_ = false;
    s.transfer_codings_.clear();
    s.host_count_ = 0;
    s.header_bytes_ = 0;
    s.body_bytes_ = 0;
    s.in_body_ = false;
    s.streaming_ = false;
    return 0;
  }

  static int count_header_bytes(RequestParser& s, std::size_t n) {
    s.header_bytes_ += n;
    if (s.header_bytes_ > s.max_header_bytes_) {
      return s.fail(431, "request line and headers exceed http.max_header_size");
    }
    return 0;
  }

  static int on_method(llhttp_t* p, const char* at, std::size_t n) {
    auto& s = self(p);
    s.req_.method.append(at, n);
    return count_header_bytes(s, n);
  }

  static int on_url(llhttp_t* p, const char* at, std::size_t n) {
    auto& s = self(p);
    s.req_.target.append(at, n);
    return count_header_bytes(s, n);
  }

  static int on_version(llhttp_t* p, const char* at, std::size_t n) {
    auto& s = self(p);
    s.has_version_ = true;
    (void)at;
    return count_header_bytes(s, n);
  }
  static int on_header_field(llhttp_t* p, const char* at, std::size_t n) {
    auto& s = self(p);
    if (s.in_value_) {
      s.in_value_ = false;
      if (const int rc = s.commit_header(); rc != 0) return rc;
    }
    s.field_.append(at, n);
    return count_header_bytes(s, n);
  }

  static int on_header_value(llhttp_t* p, const char* at, std::size_t n) {
    auto& s = self(p);
    s.in_value_ = true;
    s.value_.append(at, n);
    return count_header_bytes(s, n);
  }

  static int on_headers_complete(llhttp_t* p) {
    auto& s = self(p);
    if (s.in_value_ || !s.field_.empty()) {
      s.in_value_ = false;
      if (const int rc = s.commit_header(); rc != 0) return rc;
    }
    s.in_value_ = false;
    s.req_.version_major = p->http_major;
    s.req_.version_minor = p->http_minor;
    if (s.req_.method.empty()) s.req_.method = llhttp_method_name(static_cast<llhttp_method_t>(p->method));
    // What Go's net/http (so RoadRunner) refuses before a handler runs, and RFC 9112 requires.
    if (!s.has_version_) return s.fail(400, "request line without an HTTP version (HTTP/0.9 is not supported)");
    if (p->http_major != 1) {
      return s.fail(505, "HTTP/" + std::to_string(p->http_major) + "." + std::to_string(p->http_minor) + " is not supported");
    }
    if (s.host_count_ > 1) return s.fail(400, "more than one Host header");
    if (s.host_count_ == 0 && p->http_minor >= 1 && p->method != HTTP_CONNECT) {
      return s.fail(400, "HTTP/1.1 request without a Host header");
    }
    if (!valid_host(s.req_.host)) return s.fail(400, "malformed Host header");
    if (s.req_.target == "*" && p->method != HTTP_OPTIONS) {
      return s.fail(400, "the asterisk-form request-target is only allowed with OPTIONS");
    }
    if (s.has_content_length_ && s.has_transfer_encoding_) {
      return s.fail(400, "both Content-Length and Transfer-Encoding (request smuggling guard)");
    }
    if (s.has_transfer_encoding_) {
      if (const int st = check_transfer_codings(s.transfer_codings_); st == 400) {
        return s.fail(400, "Transfer-Encoding does not end with chunked");
      } else if (st != 0) {
        return s.fail(st, "Transfer-Encoding other than chunked is not implemented");
      }
    }
    if (s.has_content_length_ && p->content_length > s.max_body_bytes_) {
      return s.fail(413, "Content-Length exceeds http.max_request_size");
    }
    if (s.sink_ != nullptr) {
      switch (s.sink_->on_headers(s.req_)) {
        case BodySink::Decision::buffer: break;
        case BodySink::Decision::stream: s.streaming_ = true; break;
        case BodySink::Decision::reject: return s.fail(s.sink_->error_status(), s.sink_->error_reason());
      }
    }
    s.in_body_ = true;
    if (s.req_.expect_continue && (s.has_content_length_ ? p->content_length > 0 : s.has_transfer_encoding_)) {
      s.paused_for_continue_ = true;
      return HPE_PAUSED;
    }
    return 0;
  }

  static int on_chunk_header(llhttp_t* p) {
    auto& s = self(p);
    // A chunk that cannot fit is refused now, not after waiting for bytes that may never come.
    if (p->content_length > s.max_body_bytes_ - s.body_bytes_) {
      return s.fail(413, "body exceeds http.max_request_size");
    }
    return 0;
  }
  static int on_body(llhttp_t* p, const char* at, std::size_t n) {
    auto& s = self(p);
    if (s.body_bytes_ + n > s.max_body_bytes_) {
      return s.fail(413, "body exceeds http.max_request_size");
    }
    s.body_bytes_ += n;
    if (s.streaming_) {
      if (!s.sink_->on_body(std::string_view(at, n))) return s.fail(s.sink_->error_status(), s.sink_->error_reason());
      return 0;
    }
    if (s.has_content_length_ && s.req_.body.empty()) s.req_.body.reserve(p->content_length);
    s.req_.body.append(at, n);
    return 0;
  }

  static int on_message_complete(llhttp_t* p) {
    auto& s = self(p);
    s.req_.keep_alive = llhttp_should_keep_alive(p) != 0;
    s.in_message_ = false;
    s.in_body_ = false;
    return HPE_PAUSED;
  }
};

RequestParser::RequestParser(std::uint64_t max_header_bytes, std::uint64_t max_body_bytes)
    : parser_(std::make_unique<llhttp_t>()),
      settings_(std::make_unique<llhttp_settings_t>()),
      max_header_bytes_(max_header_bytes),
      max_body_bytes_(max_body_bytes) {
  llhttp_settings_init(settings_.get());
  settings_->on_message_begin = &Callbacks::on_message_begin;
  settings_->on_method = &Callbacks::on_method;
  settings_->on_url = &Callbacks::on_url;
  settings_->on_version = &Callbacks::on_version;
  settings_->on_header_field = &Callbacks::on_header_field;
  settings_->on_header_value = &Callbacks::on_header_value;
  settings_->on_headers_complete = &Callbacks::on_headers_complete;
  settings_->on_chunk_header = &Callbacks::on_chunk_header;
  settings_->on_body = &Callbacks::on_body;
  settings_->on_message_complete = &Callbacks::on_message_complete;
  llhttp_init(parser_.get(), HTTP_REQUEST, settings_.get());
  parser_->data = this;
}

RequestParser::~RequestParser() = default;

int RequestParser::fail(int status, std::string reason) {
  user_failed_ = true;
  error_status_ = status;
  error_reason_ = std::move(reason);
  return HPE_USER;
}

int RequestParser::commit_header() {
  // RFC 9112 §5.1: whitespace between a field name and the colon MUST be rejected with 400.
  if (!field_.empty() && (field_.back() == ' ' || field_.back() == '\t')) {
    return fail(400, "whitespace between a header name and the colon");
  }
  // Header values are trimmed by llhttp on the left; trim trailing whitespace here.
  while (!value_.empty() && (value_.back() == ' ' || value_.back() == '\t')) value_.pop_back();
  if (iequals(field_, "host")) {
    req_.host = value_;
    ++host_count_;
  } else {
    if (iequals(field_, "content-length")) has_content_length_ = true;
    if (iequals(field_, "transfer-encoding")) {
      if (has_transfer_encoding_) transfer_codings_ += ',';
      transfer_codings_ += value_;
      has_transfer_encoding_ = true;
    }
    if (iequals(field_, "expect") && iequals(value_, "100-continue")) req_.expect_continue = true;
    protocol::HeaderField h{std::move(field_), std::move(value_)};
    protocol::canonicalize_header_name(h.name);
    req_.headers.push_back(std::move(h));
  }
  field_.clear();
  value_.clear();
  return 0;
}

std::size_t RequestParser::feed(std::string_view data, Status& status) {
  const llhttp_errno_t err = llhttp_execute(parser_.get(), data.data(), data.size());
  if (err == HPE_OK) {
    status = Status::need_more;
    return data.size();
  }
  const char* pos = llhttp_get_error_pos(parser_.get());
  const std::size_t used = pos ? static_cast<std::size_t>(pos - data.data()) : data.size();
  if (err == HPE_PAUSED) {
    if (paused_for_continue_) {
      status = Status::expect_continue;
    } else {
      status = Status::complete;
    }
    return used;
  }
  if (!user_failed_) {
    error_status_ = 400;
    error_reason_ = std::string(llhttp_errno_name(err)) + ": " + llhttp_get_error_reason(parser_.get());
    if (err == HPE_PAUSED_H2_UPGRADE) {
      error_status_ = 505;
      error_reason_ = "HTTP/2 connection preface on an HTTP/1 port";
    } else if (err == HPE_INVALID_METHOD || err == HPE_INVALID_VERSION) {
      // A well-formed request line with an unknown method is 501, with a version other than
      // 1.x ("HTTP/1.2", "HTTP/3.0") 505; anything else is malformed (400). A message starts a
      // feed (the parser pauses after each one; llhttp skips CR/LF between messages), so the
      // line is this feed's first, after the method bytes an earlier feed delivered.
      const std::string_view prefix = err == HPE_INVALID_METHOD ? std::string_view(req_.method) : std::string_view();
      std::string_view rest = data;
      if (prefix.empty()) rest.remove_prefix(std::min(rest.find_first_not_of("\r\n"), rest.size()));
      const std::size_t eol = rest.find('\n');
      const std::string line =
          std::string(prefix) + std::string(eol == std::string_view::npos ? std::string_view() : rest.substr(0, eol + 1));
      if (well_formed_request_line(line)) {
        error_status_ = err == HPE_INVALID_METHOD ? 501 : 505;
        if (err == HPE_INVALID_METHOD) error_reason_ = "method " + line.substr(0, line.find(' ')) + " is not implemented";
      }
    }
  }
  status = Status::error;
  return used;
}

RequestParser::Status RequestParser::finish_eof() {
  const llhttp_errno_t err = llhttp_finish(parser_.get());
  if (err == HPE_OK || err == HPE_PAUSED) return in_message_ ? Status::error : Status::need_more;
  error_status_ = 400;
  error_reason_ = "connection closed in the middle of a request";
  return Status::error;
}

void RequestParser::resume() {
  paused_for_continue_ = false;
  llhttp_resume(parser_.get());
}

}  // namespace pivot::http
