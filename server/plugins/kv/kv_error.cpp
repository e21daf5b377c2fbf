#include "server/plugins/kv/kv_error.hpp"

namespace pivot::kv {
namespace {

class KvCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "pivot.kv"; }
  std::string message(int ev) const override {
    // The first two are RoadRunner's texts (roadrunner-server/errors, memorykv).
    switch (static_cast<KvError>(ev)) {
      case KvError::empty_key: return "key can't be empty string";
      case KvError::no_timeout: return "timeout for MExpire is empty or key is empty";
      case KvError::bad_timeout: return "invalid RFC 3339 time";
      case KvError::unavailable: return "redis unavailable";
      case KvError::timeout: return "redis timeout";
      case KvError::backend_error: return "redis error";
      case KvError::overloaded: return "too many pending operations";
      case KvError::stopping: return "the server is stopping";
    }
    return "unknown kv error";
  }
};

}  // namespace

const std::error_category& kv_category() noexcept {
  static const KvCategory category;
  return category;
}

std::error_code make_error_code(KvError e) noexcept { return {static_cast<int>(e), kv_category()}; }

}  // namespace pivot::kv
