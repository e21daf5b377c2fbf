#pragma once

#include <system_error>

namespace pivot::protocol {

/// Errors of server-side form parsing (protocol doc §3.3 and §3.4).
enum class FormError {
  conflict = 1,      ///< a key is both a value and a branch ("invalid multiple values to key …", HTTP 500)
  bad_encoding,      ///< an urlencoded body with a malformed %-escape
  bad_multipart,     ///< a multipart body that does not follow RFC 2046 / RFC 7578
  part_header_too_large,  ///< one part's header block is larger than the parser's limit
  incomplete,        ///< the multipart body ended before its closing boundary
};

/// The std::error_category of FormError.
const std::error_category& form_category() noexcept;

/// Makes a std::error_code from a FormError.
std::error_code make_error_code(FormError e) noexcept;

}  // namespace pivot::protocol

template <>
struct std::is_error_code_enum<pivot::protocol::FormError> : std::true_type {};
