#include "server/plugins/jobs/driver.hpp"

namespace pivot::jobs {

asio::awaitable<std::vector<std::error_code>> Driver::push_batch(std::vector<Job> jobs) {
  std::vector<std::error_code> results;
  results.reserve(jobs.size());
  for (auto& job : jobs) results.push_back(co_await push(std::move(job)));
  co_return results;
}

}  // namespace pivot::jobs
