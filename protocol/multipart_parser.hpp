#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>

namespace pivot::protocol {

/// What a multipart/form-data part's headers say (RFC 7578), as far as forms care.
struct MultipartPart {
  bool form_data = false;     ///< Content-Disposition is form-data with a non-empty name
  std::string name;           ///< the field name
  bool has_filename = false;  ///< a filename (or filename*) parameter was present: a file part
  std::string filename;       ///< the client's file name, reduced to its base name as Go does
  std::string content_type;   ///< the part's Content-Type, empty when absent

  /// Empties every field, keeping capacity.
  void clear();
};

/// Incremental multipart/form-data parser (RFC 2046 §5.1, RFC 7578). Feed it the body in any
/// split of bytes; it reports each part's headers, its data (coalesced into as few calls as the
/// input allows) and its end, and keeps no body bytes itself, so a part of any size streams
/// through in constant memory. The preamble and the epilogue are ignored.
class MultipartParser {
 public:
  /// Receives the parts as they stream by. An error returned here stops the parser and is
  /// returned by feed().
  class Handler {
   public:
    virtual ~Handler() = default;
    /// The headers of the next part are complete.
    virtual std::error_code on_part_begin(const MultipartPart& part) = 0;
    /// The next bytes of the current part's body.
    virtual std::error_code on_part_data(std::string_view data) = 0;
    /// The current part ended (its closing delimiter was seen).
    virtual std::error_code on_part_end() = 0;
  };

  /// Longest boundary accepted (RFC 2046 allows 70; some clients exceed it slightly).
  static constexpr std::size_t kMaxBoundary = 200;

  /// A parser whose parts may carry at most `max_part_header_bytes` of headers each.
  explicit MultipartParser(std::size_t max_part_header_bytes = 16 * 1024) noexcept
      : max_header_bytes_(max_part_header_bytes) {}

  /// Starts a new body delimited by `boundary`; false when it is empty or too long.
  bool reset(std::string_view boundary);
  /// Parses the next bytes of the body. After an error every further call returns it again.
  std::error_code feed(std::string_view data, Handler& handler);
  /// True once the closing delimiter ("--boundary--") was seen.
  bool done() const noexcept { return state_ == State::epilogue; }

  /// Extracts the boundary parameter of a `multipart/form-data; boundary=…` Content-Type value.
  static bool boundary_from_content_type(std::string_view content_type, std::string& boundary);
  /// Parses a part's header block (lines separated by CRLF or LF) into `part`.
  static void parse_part_headers(std::string_view block, MultipartPart& part);

 private:
  enum class State { preamble, after_delimiter, close_dash, padding, delimiter_lf, headers, body, epilogue, failed };

  std::error_code fail(std::error_code ec) noexcept;
  std::error_code end_of_headers(Handler& handler);
  std::error_code confirm_delimiter(Handler& handler);
  std::error_code not_a_delimiter(Handler& handler, bool dash);

  std::size_t max_header_bytes_;
  std::string delimiter_;    // "\r\n--" + boundary
  State state_ = State::failed;
  std::size_t match_ = 0;    // delimiter bytes matched so far (possibly in earlier feeds)
  bool from_body_ = false;   // the delimiter being confirmed ends a part (not the preamble)
  std::string header_;       // the current part's header block so far
  std::size_t line_start_ = 0;
  MultipartPart part_;
  std::error_code error_;
};

}  // namespace pivot::protocol
