#pragma once

#include <spdlog/logger.h>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "server/config/config.hpp"
#include "server/plugins/jobs/driver.hpp"
#include "server/pool/pool.hpp"

namespace pivot::jobs {

/// The jobs plugin (protocol doc §4): owns the pipelines (one Driver each), runs `num_pollers`
/// pollers per consumed pipeline that hand each job to the jobs pool as a task frame and settle
/// it from the worker's reply (§4.2), and serves the operations behind the `jobs.*` RPC methods.
/// A failing job is redelivered until `retry.max_attempts` deliveries, then moved to the
/// pipeline's `dead_letter` pipeline or dropped with one `event=job_dropped` log line.
/// The pipeline map lives on the plugin's strand; every public coroutine may be awaited from
/// any executor. Borrows the pool, which must outlive the plugin.
class JobsPlugin {
 public:
  /// Creates a driver for a pipeline; returns nullptr with `error` set when it cannot.
  using DriverFactory = std::function<std::unique_ptr<Driver>(const config::JobsPipelineConfig&, std::string& error)>;

  /// Hooks for the metrics plugin (rr_jobs_*); each may be empty. Called from any thread.
  struct Hooks {
    /// A push finished: pipeline, driver, source ("single"/"batch"), ok, seconds it took (for
    /// a batch, each job reports the time its whole driver batch took).
    std::function<void(const std::string&, const std::string&, const char*, bool, double)> on_push;
    /// A job was settled after its worker ran: true when it was acked without error.
    std::function<void(bool ok)> on_job;
  };

  /// Nothing runs until start(). The memory driver is built in; others come from add_driver().
  JobsPlugin(asio::io_context& io, const config::JobsConfig& cfg, pool::Pool& pool, std::shared_ptr<spdlog::logger> log);
  ~JobsPlugin();
  JobsPlugin(const JobsPlugin&) = delete;
  JobsPlugin& operator=(const JobsPlugin&) = delete;

  /// Registers the factory of driver `name` ("amqp"). Control path, before start().
  void add_driver(std::string name, DriverFactory factory);
  /// Sets the metrics hooks. Control path, before start().
  void set_hooks(Hooks hooks);

  /// Creates the configured pipelines and starts the pollers of the consumed ones. Control
  /// path: throws std::runtime_error naming the pipeline when a driver cannot be created.
  void start();
  /// Shutdown: stops every driver (pollers waiting for a job end), stops the jobs pool (in-flight
  /// jobs finish within its destroy_timeout, or their workers are killed and the jobs nacked),
  /// and waits until every poller has settled its job and ended.
  asio::awaitable<void> stop();

  /// Pushes `jobs` (source "single" or "batch"); a job with priority 0 gets its pipeline's.
  /// Returns "" or the error text ("no such pipeline, requested: X", a driver error).
  asio::awaitable<std::string> push(std::vector<Job> jobs, const char* source);
  /// Pauses (`pause`) or resumes the named pipelines; "" or "no such pipeline, requested: X".
  asio::awaitable<std::string> pause(std::vector<std::string> names, bool pause);
  /// Every pipeline name, sorted.
  asio::awaitable<std::vector<std::string>> list();
  /// Creates and starts consuming a pipeline; "" or "pipeline already exists, name: X" or a
  /// driver error.
  asio::awaitable<std::string> declare(config::JobsPipelineConfig cfg);
  /// Stops and removes the named pipelines (queued memory jobs are lost); returns the ones
  /// destroyed, or sets `error` for an unknown name (nothing is destroyed then).
  asio::awaitable<std::vector<std::string>> destroy(std::vector<std::string> names, std::string& error);
  /// Counters of every pipeline, sorted by name.
  asio::awaitable<std::vector<PipelineStat>> stats();

 private:
  struct Pipeline;
  using PipelinePtr = std::shared_ptr<Pipeline>;

  PipelinePtr create(const config::JobsPipelineConfig& cfg, std::string& error);
  void start_pollers(const PipelinePtr& p);
  asio::awaitable<PipelinePtr> find(const std::string& name);
  asio::awaitable<void> poll(PipelinePtr p);
  asio::awaitable<void> run_job(Pipeline& p, std::unique_ptr<Delivery> d, std::string& frame);
  asio::awaitable<void> retry(Pipeline& p, Delivery& d, const Headers* extra_headers, std::int64_t delay, const std::string& reason);
  asio::awaitable<void> give_up(Pipeline& p, Delivery& d, const std::string& reason);
  void poller_done();

  asio::io_context& io_;
  config::JobsConfig cfg_;
  pool::Pool& pool_;
  std::shared_ptr<spdlog::logger> log_;
  asio::strand<asio::io_context::executor_type> strand_;
  std::map<std::string, DriverFactory> factories_;
  std::map<std::string, PipelinePtr, std::less<>> pipelines_;  // on strand_
  Hooks hooks_;
  unsigned running_pollers_ = 0;                               // on strand_
  asio::steady_timer* stop_wait_ = nullptr;                    // on strand_: wakes stop()
  bool stopping_ = false;                                      // on strand_
};

}  // namespace pivot::jobs
