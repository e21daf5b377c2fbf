#pragma once

#include <string>
#include <system_error>

namespace pivot::jobs {

/// Failures of the amqp jobs driver on the data path (push, settle), as std::error_code.
enum class AmqpError {
  unavailable = 1,  ///< no connection to the broker right now (down, or reconnecting)
  connection_lost,  ///< the connection broke before the broker confirmed the message
  rejected,         ///< the broker nacked the publish (it could not store the message)
  unroutable,       ///< the broker returned the message: no queue is bound for its routing key
  timeout,          ///< no publisher confirm within the confirm timeout (broker blocked?)
  too_large,        ///< the message exceeds the broker's frame/message limits
  stopping,         ///< the driver is stopping
};

/// The std::error_category of AmqpError ("pivot.jobs.amqp").
const std::error_category& amqp_category() noexcept;

/// Makes a std::error_code from an AmqpError.
std::error_code make_error_code(AmqpError e) noexcept;

}  // namespace pivot::jobs

template <>
struct std::is_error_code_enum<pivot::jobs::AmqpError> : std::true_type {};
