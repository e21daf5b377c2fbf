#include "server/plugins/jobs/amqp_error.hpp"

namespace pivot::jobs {
namespace {

class AmqpCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "pivot.jobs.amqp"; }
  std::string message(int ev) const override {
    switch (static_cast<AmqpError>(ev)) {
      case AmqpError::unavailable: return "amqp broker unavailable (not connected, reconnecting); the job was not stored";
      case AmqpError::connection_lost: return "amqp connection lost before the broker confirmed the job; it may not be stored";
      case AmqpError::rejected: return "amqp broker rejected the job (publish nacked); it was not stored";
      case AmqpError::unroutable: return "amqp broker returned the job: no queue bound for its routing key; it was not stored";
      case AmqpError::timeout: return "amqp broker did not confirm the job in time; it may not be stored";
      case AmqpError::too_large: return "amqp job too large for the broker";
      case AmqpError::stopping: return "amqp pipeline is stopping";
    }
    return "unknown amqp error";
  }
};

}  // namespace

const std::error_category& amqp_category() noexcept {
  static const AmqpCategory category;
  return category;
}

std::error_code make_error_code(AmqpError e) noexcept { return {static_cast<int>(e), amqp_category()}; }

}  // namespace pivot::jobs
