#include "server/plugins/jobs/jobs_error.hpp"

#include <string>

namespace pivot::jobs {
namespace {

class JobsCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "pivot.jobs"; }
  std::string message(int ev) const override {
    switch (static_cast<JobsError>(ev)) {
      case JobsError::pipeline_full: return "the pipeline is full (jobs.pipeline_size reached); retry later or raise it";
      case JobsError::stopping: return "the pipeline is stopping";
      case JobsError::push_timeout: return "the driver did not store the job within jobs.timeout";
    }
    return "unknown jobs error";
  }
};

}  // namespace

const std::error_category& jobs_category() noexcept {
  static const JobsCategory category;
  return category;
}

std::error_code make_error_code(JobsError e) noexcept { return {static_cast<int>(e), jobs_category()}; }

}  // namespace pivot::jobs
