#pragma once

#include <string>

#include "protocol/frame.hpp"

namespace pivot::pool {

/// The typed result of one execution; one table (http/status_map) turns it into an HTTP status
/// and one function (Pool::release) decides the worker's fate from it.
enum class Outcome {
  Ok,                   ///< a reply frame was received
  SoftError,            ///< the worker sent an ERROR frame; it stays in the pool
  NoWorker,             ///< no worker within allocate_timeout
  QueueFull,            ///< max_queue_size reached
  Stopping,             ///< the pool is shutting down
  Crashed,              ///< the worker died or closed its pipes mid-request
  ProtocolError,        ///< bytes that are not a valid frame, or a malformed reply
  Timeout,              ///< exec_ttl expired
};

/// What an execution produced. `frame` holds the reply when Ok; `error` explains anything else.
struct ExecResult {
  Outcome outcome = Outcome::Ok;   ///< what happened
  protocol::Frame frame;           ///< the reply (Ok): payload = context + body
  std::size_t context_len = 0;     ///< option[0] of the reply
  std::string error;               ///< worker error text or a diagnostic
  int pid = 0;                     ///< the worker that ran it (0 when none)
};

/// Short name of an outcome for logs ("ok", "crashed", ...).
const char* outcome_name(Outcome o) noexcept;

}  // namespace pivot::pool
