#pragma once

#include "server/pool/outcome.hpp"

namespace pivot::http {

/// The one table from execution outcomes to HTTP statuses (architecture.md, "Failures to statuses").
/// `internal_error_code` is http.internal_error_code, used for worker ERROR frames.
int status_for(pool::Outcome outcome, int internal_error_code) noexcept;

}  // namespace pivot::http
