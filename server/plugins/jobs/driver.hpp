#pragma once

#include <asio/awaitable.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "server/plugins/jobs/job.hpp"

namespace pivot::jobs {

/// One delivered job, owned by the consumer until it is settled. Exactly one of ack/nack/requeue
/// is called, once; destroying an unsettled delivery counts as nack(requeue=true, 0s) so a job is
/// never lost. Settling may be called from any thread; the driver routes it to its own thread.
class Delivery {
 public:
  virtual ~Delivery() = default;
  /// The job, with `attempts` = deliveries before this one.
  virtual const Job& job() const = 0;
  /// Done: remove the job for good.
  virtual void ack() = 0;
  /// Failed: when `requeue`, deliver it again after `delay` with attempts + 1; else drop it.
  virtual void nack(bool requeue, std::chrono::seconds delay) = 0;
  /// Deliver it again after `delay` with `headers` replacing the job's headers, attempts + 1.
  virtual void requeue(Headers headers, std::chrono::seconds delay) = 0;
};

/// A queue backend for one pipeline (memory, amqp). Created by the jobs plugin at start or by
/// `jobs.Declare`; used from the plugin's executor. Drivers that block (librabbitmq) run their
/// own thread and hand results back through the io_context they were given.
class Driver {
 public:
  virtual ~Driver() = default;
  /// Stores `job` durably (amqp: after the broker's publisher confirm). Errors: full
  /// (memory pipeline_size), broker down, too large. Any executor.
  virtual asio::awaitable<std::error_code> push(Job job) = 0;
  /// Stores every job of `jobs` and returns one result per job, in order. The default pushes
  /// them one after the other; a driver with a round trip per push (amqp) overlaps them. Jobs
  /// after a failed one may still be stored. Any executor.
  virtual asio::awaitable<std::vector<std::error_code>> push_batch(std::vector<Job> jobs);
  /// Waits for the next deliverable job while the pipeline is running; returns nullptr once
  /// the driver is stopping. While paused it just keeps waiting. Several pollers may wait at
  /// once; each gets a different job. Any executor.
  virtual asio::awaitable<std::unique_ptr<Delivery>> next() = 0;
  /// Stop handing out jobs (pushes still succeed). Idempotent.
  virtual void pause() = 0;
  /// Hand out jobs again. Idempotent.
  virtual void resume() = 0;
  /// Current counters.
  virtual asio::awaitable<PipelineStat> stat() = 0;
  /// Wakes every waiting `next()` with nullptr and releases resources; unsettled deliveries
  /// stay redeliverable (memory: kept in the queue; amqp: unacked, so the broker redelivers).
  virtual asio::awaitable<void> stop() = 0;
};

}  // namespace pivot::jobs
