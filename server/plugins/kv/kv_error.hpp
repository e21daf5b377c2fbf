#pragma once

#include <string>
#include <system_error>

namespace pivot::kv {

/// Failures of a KV storage operation (the data path reports them as std::error_code).
enum class KvError {
  empty_key = 1,   ///< a key is empty or only whitespace (RoadRunner: "key can't be empty string")
  no_timeout,      ///< kv.MExpire item without a timeout
  bad_timeout,     ///< `timeout` is not an RFC 3339 time
  unavailable,     ///< the backend cannot be reached (connect, AUTH, SELECT or a broken connection)
  timeout,         ///< the backend did not answer within read_timeout / write_timeout
  backend_error,   ///< the backend answered with an error reply
  overloaded,      ///< too many operations already waiting for the backend
  stopping,        ///< the server is shutting down
};

/// The std::error_category of KvError ("pivot.kv").
const std::error_category& kv_category() noexcept;

/// Makes a std::error_code from a KvError.
std::error_code make_error_code(KvError e) noexcept;

}  // namespace pivot::kv

template <>
struct std::is_error_code_enum<pivot::kv::KvError> : std::true_type {};
