#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace pivot::protocol {

/// Job headers as on the wire: `{name:[values]}` (same type as pivot::jobs::Headers).
using JobHeaders = std::map<std::string, std::vector<std::string>>;

/// The fields of a task context (protocol doc §4.1). Borrowed views; plain data.
struct JobContext {
  std::string_view id;            ///< job id
  std::string_view job;           ///< job name
  std::string_view driver;        ///< "memory", "amqp"
  const JobHeaders* headers;      ///< nullptr or empty: `null`
  std::string_view pipeline;      ///< pipeline name
  std::string_view queue;         ///< broker queue; empty: the key is left out (memory)
};

/// Appends the task context JSON `{"id","job","driver","headers","pipeline"[,"queue"]}` to `out`,
/// in RoadRunner's key order and compact form.
void append_job_context(std::string& out, const JobContext& ctx);

/// Reply types of a consumer worker (protocol doc §4.2).
enum class JobReplyType : std::int64_t {
  no_error = 0,  ///< deprecated complete(): ack
  error = 1,     ///< deprecated fail(): log; requeue when `requeue`, else ack
  ack = 2,       ///< ack
  nack = 3,      ///< nack with `requeue` and `delay_seconds`
  requeue = 4,   ///< requeue with `headers` and `delay_seconds`
};

/// A decoded `{"type":T,"data":D}` reply; `data` may be `[]`, `{}`, null or an object. Plain data.
struct JobReply {
  std::int64_t type = 0;           ///< JobReplyType, or an unknown number (warn, ack)
  std::string message;             ///< data.message
  std::int64_t delay_seconds = 0;  ///< data.delay_seconds
  bool requeue = false;            ///< data.requeue
  bool has_headers = false;        ///< data.headers was present (an object)
  JobHeaders headers;              ///< data.headers
};

/// Decodes a worker's reply body. Fails with ProtocolError::bad_json when it is not a JSON
/// object with a numeric `type` (an empty body included). Unknown keys are skipped.
std::error_code decode_job_reply(std::string_view body, JobReply& out);

}  // namespace pivot::protocol
