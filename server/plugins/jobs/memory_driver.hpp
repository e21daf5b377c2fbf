#pragma once

#include <asio/io_context.hpp>

#include <cstdint>
#include <memory>
#include <string>

#include "server/plugins/jobs/driver.hpp"

namespace pivot::jobs {

/// The embedded `memory` driver: one priority queue per pipeline, in this process only (jobs are
/// lost when the server stops). Order: the lowest `priority` number first (RoadRunner's
/// priority_queue is a min-heap), FIFO among equal priorities; a requeued job goes to the back of
/// its priority. Delayed jobs wait in a time-ordered set behind one timer. At most `capacity`
/// jobs (ready + delayed + reserved) are held: push fails with JobsError::pipeline_full beyond
/// that. `prefetch` > 0 bounds the jobs delivered and not yet settled. All state lives on one
/// strand; deliveries keep it alive, so they may be settled after the driver is gone.
class MemoryDriver final : public Driver {
 public:
  /// A running (not paused) empty pipeline `pipeline` with default priority `priority`.
  MemoryDriver(asio::io_context& io, std::string pipeline, std::int64_t priority, std::uint64_t capacity, std::uint64_t prefetch);
  /// Stops the driver (waiting next() calls get nullptr).
  ~MemoryDriver() override;
  MemoryDriver(const MemoryDriver&) = delete;
  MemoryDriver& operator=(const MemoryDriver&) = delete;

  /// Queues `job` (delayed when job.delay > 0). Errors: pipeline_full, stopping. Any executor.
  asio::awaitable<std::error_code> push(Job job) override;
  /// The next ready job in priority order, waiting while empty or paused; nullptr once stopped.
  asio::awaitable<std::unique_ptr<Delivery>> next() override;
  /// Stops handing out jobs; pushes still succeed. Thread-safe.
  void pause() override;
  /// Hands out jobs again. Thread-safe.
  void resume() override;
  /// Counts of ready, delayed and reserved jobs. Any executor.
  asio::awaitable<PipelineStat> stat() override;
  /// Wakes every waiting next() with nullptr; queued jobs are dropped with the driver.
  asio::awaitable<void> stop() override;

  struct Core;  ///< the strand-owned state (shared with deliveries)

 private:
  std::shared_ptr<Core> core_;
};

}  // namespace pivot::jobs
