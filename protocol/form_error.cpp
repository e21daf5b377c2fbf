#include "protocol/form_error.hpp"

#include <string>

namespace pivot::protocol {
namespace {

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "pivot.form"; }
  std::string message(int ev) const override {
    switch (static_cast<FormError>(ev)) {
      case FormError::conflict: return "invalid multiple values to a key in the form tree";
      case FormError::bad_encoding: return "malformed %-escape in an urlencoded form";
      case FormError::bad_multipart: return "malformed multipart/form-data body";
      case FormError::part_header_too_large: return "multipart part headers too large";
      case FormError::incomplete: return "multipart body ended before its closing boundary";
    }
    return "unknown form error";
  }
};

}  // namespace

const std::error_category& form_category() noexcept {
  static const Category category;
  return category;
}

std::error_code make_error_code(FormError e) noexcept { return {static_cast<int>(e), form_category()}; }

}  // namespace pivot::protocol
