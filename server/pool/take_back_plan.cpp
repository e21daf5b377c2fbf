#include "server/pool/take_back_plan.hpp"

namespace pivot::pool {

TakeBackPlan plan_take_back(std::size_t current_bytes, std::span<const std::size_t> queued_bytes, std::size_t unread) noexcept {
  TakeBackPlan plan;
  std::size_t total = current_bytes;
  for (const std::size_t b : queued_bytes) total += b;
  if (unread > total) {
    plan.consistent = false;
    plan.keep = queued_bytes.size();
    plan.put_back = unread;
    return plan;
  }
  // The worker has read the first `consumed` bytes of the stream. Queued frames that start
  // before that point are (partly) in the worker's hands; the first one starting at or after it
  // and everything behind it are still whole in the pipe.
  const std::size_t consumed = total - unread;
  std::size_t start = current_bytes;
  while (plan.keep < queued_bytes.size() && start < consumed) start += queued_bytes[plan.keep++];
  plan.put_back = start - consumed;
  return plan;
}

}  // namespace pivot::pool
