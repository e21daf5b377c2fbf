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

  static int on_header_field(llhttp_t* p, const char* at, std::size_t n) {
    auto& s = self(p);
    if (s.in_value_) {
      s.commit_header();
      s.in_value_ = false;
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
    if (s.in_value_ || !s.field_.empty()) s.commit_header();
    s.in_value_ = false;
    s.req_.version_major = p->http_major;
    s.req_.version_minor = p->http_minor;
    if (s.req_.method.empty()) s.req_.method = llhttp_method_name(static_cast<llhttp_method_t>(p->method));
    if (s.has_content_length_ && s.has_transfer_encoding_) {
      return s.fail(400, "both Content-Length and Transfer-Encoding (request smuggling guard)");
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
  settings_->on_header_field = &Callbacks::on_header_field;
  settings_->on_header_value = &Callbacks::on_header_value;
  settings_->on_headers_complete = &Callbacks::on_headers_complete;
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

void RequestParser::commit_header() {
  // Header values are trimmed by llhttp on the left; trim trailing whitespace here.
  while (!value_.empty() && (value_.back() == ' ' || value_.back() == '\t')) value_.pop_back();
  if (iequals(field_, "host")) {
    req_.host = value_;
  } else {
    if (iequals(field_, "content-length")) has_content_length_ = true;
    if (iequals(field_, "transfer-encoding")) has_transfer_encoding_ = true;
    if (iequals(field_, "expect") && iequals(value_, "100-continue")) req_.expect_continue = true;
    protocol::HeaderField h{std::move(field_), std::move(value_)};
    protocol::canonicalize_header_name(h.name);
    req_.headers.push_back(std::move(h));
  }
  field_.clear();
  value_.clear();
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
