#include "server/http/status_map.hpp"

namespace pivot::http {

int status_for(pool::Outcome outcome, int internal_error_code) noexcept {
  switch (outcome) {
    case pool::Outcome::Ok: return 200;
    case pool::Outcome::SoftError: return internal_error_code;
    case pool::Outcome::NoWorker:
    case pool::Outcome::QueueFull:
    case pool::Outcome::Stopping: return 503;
    case pool::Outcome::Crashed:
    case pool::Outcome::ProtocolError: return 502;
    case pool::Outcome::Timeout: return 504;
  }
  return 500;
}

}  // namespace pivot::http
