#pragma once

#include <system_error>

namespace pivot::jobs {

/// Failures of a jobs operation on the data path (push, settle), reported as std::error_code.
enum class JobsError {
  pipeline_full = 1,  ///< a memory pipeline holds pipeline_size jobs already
  stopping,           ///< the pipeline or the server is shutting down
  push_timeout,       ///< the driver did not store the job within jobs.timeout
};

/// The std::error_category of JobsError ("pivot.jobs").
const std::error_category& jobs_category() noexcept;

/// Makes a std::error_code from a JobsError.
std::error_code make_error_code(JobsError e) noexcept;

}  // namespace pivot::jobs

template <>
struct std::is_error_code_enum<pivot::jobs::JobsError> : std::true_type {};
