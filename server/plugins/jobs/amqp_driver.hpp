#pragma once

#include <spdlog/logger.h>

#include <asio/io_context.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "server/config/config.hpp"
#include "server/plugins/jobs/amqp_connection.hpp"
#include "server/plugins/jobs/driver.hpp"

namespace pivot::jobs {

/// Settings of one amqp pipeline (`jobs.pipelines.<name>.config`, RoadRunner's key names) plus
/// the broker address (`amqp.addr`). Plain data.
struct AmqpOptions {
  std::string pipeline;                       ///< pipeline name
  std::int64_t priority = 10;                 ///< pipeline priority (jobs pushed with 0 get it)
  AmqpAddress address;                        ///< from amqp.addr
  std::string queue;                          ///< `queue`: default the pipeline name
  std::string exchange = "amqp.default";      ///< `exchange`
  std::string exchange_type = "direct";       ///< `exchange_type`: direct, fanout, topic, headers
  std::string routing_key;                    ///< `routing_key`: default the queue name
  bool durable = true;                        ///< `durable`: the queue survives a broker restart
  bool exchange_durable = true;               ///< `exchange_durable`
  bool exchange_auto_delete = false;          ///< `exchange_auto_delete`
  bool queue_auto_delete = false;             ///< `queue_auto_delete`
  bool exclusive = false;                     ///< `exclusive`
  bool delete_queue_on_stop = false;          ///< `delete_queue_on_stop`
  std::uint16_t prefetch = 10;                ///< `prefetch`: unacked deliveries held (basic.qos)
  std::string consumer_id;                    ///< `consumer_id`: default pivot-<pipeline>-<pid>
  std::chrono::milliseconds connect_timeout{5000};     ///< TCP connect + login
  std::chrono::milliseconds confirm_timeout{30000};    ///< publish -> broker confirm, else push fails
  std::chrono::milliseconds reconnect_min{100};        ///< first reconnect delay
  std::chrono::milliseconds reconnect_max{5000};       ///< reconnect delay cap (doubles up to it)
  int heartbeat = 10;                                  ///< AMQP heartbeat, seconds
  std::chrono::milliseconds stop_grace{10000};         ///< stop(): wait for deliveries in hand to settle
};

/// Validates the amqp keys of `pipeline.config` and `amqp_addr`; throws config::ConfigError
/// naming the key under `path` (e.g. "jobs.pipelines.emails.config") and what is allowed.
/// Values may be numeric/boolean strings, as jobs.Declare sends them. Pure.
AmqpOptions parse_amqp_options(const config::JobsPipelineConfig& pipeline, const std::string& amqp_addr,
                               const std::string& path);

/// The `amqp` driver (RabbitMQ through librabbitmq). librabbitmq is not thread-safe, so one
/// thread owns one connection with three channels: publish (publisher confirms), consume
/// (basic.qos `prefetch`, manual ack) and stat. Calls from the io threads post commands to it
/// and wake it (eventfd); results come back on the caller's executor.
///
/// - push: persistent message (delivery_mode 2) with the job in RoadRunner's headers (rr_id,
///   rr_job, rr_pipeline, rr_headers, rr_delay, rr_priority, rr_auto_ack) plus rr_attempts;
///   completes after the broker's basic.ack (mandatory publish: a returned message is an error).
/// - delay: published to a per-delay queue `delayed-<ms>.<exchange>.<queue>` (x-message-ttl,
///   x-expires, dead-lettered into the pipeline's exchange and routing key).
/// - ack -> basic.ack; nack without requeue -> basic.reject; nack with requeue and requeue ->
///   republish with attempts + 1 (new headers, delay), then basic.ack of the original once the
///   broker confirmed the copy.
/// - connection loss: pending pushes fail, deliveries in hand are dropped (the broker redelivers
///   them), reconnect with backoff (reconnect_min doubling to reconnect_max), one
///   `event=amqp_reconnect` line when back; pushes fail at once with AmqpError::unavailable while
///   down.
class AmqpDriver final : public Driver {
 public:
  /// Starts the driver thread, which connects in the background. It consumes (basic.consume)
  /// from the first next() call on, unless paused: a pipeline this server only pushes to (not in
  /// jobs.consume) leaves the queue's messages to the servers that consume it.
  AmqpDriver(AmqpOptions options, std::shared_ptr<spdlog::logger> log);
  /// Stops the thread (closing the connection: unacked deliveries go back to the queue).
  ~AmqpDriver() override;
  AmqpDriver(const AmqpDriver&) = delete;
  AmqpDriver& operator=(const AmqpDriver&) = delete;

  /// Publishes `job` and completes after the broker's confirm. Errors: AmqpError. Any executor.
  asio::awaitable<std::error_code> push(Job job) override;
  /// Publishes all of `jobs` back to back and completes once every confirm (or failure) is in:
  /// one broker round trip for the batch instead of one per job. Any executor.
  asio::awaitable<std::vector<std::error_code>> push_batch(std::vector<Job> jobs) override;
  /// The next delivery; nullptr once stopping. Any executor.
  asio::awaitable<std::unique_ptr<Delivery>> next() override;
  /// Cancels the consumer and hands buffered deliveries back to the broker. Thread-safe.
  void pause() override;
  /// Consumes again. Thread-safe.
  void resume() override;
  /// Ready/delayed counts from the broker (passive declares), reserved from this driver.
  asio::awaitable<PipelineStat> stat() override;
  /// Wakes waiting next() calls with nullptr and hands buffered deliveries back; then keeps
  /// settling the deliveries in hand (their jobs are still running) for up to stop_grace, fails
  /// pending pushes and closes the connection (anything still unacked is redelivered).
  asio::awaitable<void> stop() override;

  struct Core;  ///< state shared by the driver thread, the io threads and deliveries

 private:
  std::shared_ptr<Core> core_;
  std::thread thread_;
};

/// The factory the jobs plugin registers for driver "amqp": parse_amqp_options() with the path
/// `jobs.pipelines.<name>.config`, then a running AmqpDriver. Throws config::ConfigError. `io`
/// is not needed (the driver resumes callers on their own executors); kept for symmetry.
std::unique_ptr<Driver> make_amqp_driver(asio::io_context& io, const config::JobsPipelineConfig& pipeline,
                                         const std::string& amqp_addr, std::shared_ptr<spdlog::logger> log);

}  // namespace pivot::jobs
