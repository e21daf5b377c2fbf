#include "server/plugins/jobs/jobs_plugin.hpp"

#include <nlohmann/json.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "protocol/frame.hpp"
#include "protocol/jobs_payload.hpp"
#include "protocol/json_writer.hpp"
#include "server/plugins/jobs/memory_driver.hpp"

namespace pivot::jobs {
namespace {

constexpr auto kTuple = asio::experimental::as_tuple(asio::use_awaitable);
/// Header added to a job moved to a dead-letter pipeline: why it failed the last time.
constexpr const char* kFailedReason = "x-pivot-failed-reason";
/// Header added to a dead-lettered job: the pipeline it failed in.
constexpr const char* kFailedPipeline = "x-pivot-failed-pipeline";
/// Header added to a dead-lettered job: how many deliveries it had.
constexpr const char* kFailedAttempts = "x-pivot-attempts";

std::string json_quoted(std::string_view s) {
  std::string out;
  protocol::append_json_string(out, s);
  return out;
}

std::string no_such_pipeline(const std::string& name) { return "no such pipeline, requested: " + name; }

}  // namespace

struct JobsPlugin::Pipeline {
  config::JobsPipelineConfig cfg;
  std::unique_ptr<Driver> driver;
  std::string queue;  // the broker queue sent as `queue` in the task context ("" for memory)
};

JobsPlugin::JobsPlugin(asio::io_context& io, const config::JobsConfig& cfg, pool::Pool& pool, std::shared_ptr<spdlog::logger> log)
    : io_(io), cfg_(cfg), pool_(pool), log_(std::move(log)), strand_(asio::make_strand(io)) {
  const std::uint64_t capacity = cfg_.pipeline_size;
  factories_["memory"] = [this, capacity](const config::JobsPipelineConfig& p, std::string&) -> std::unique_ptr<Driver> {
    return std::make_unique<MemoryDriver>(io_, p.name, p.priority, capacity, p.prefetch);
  };
}

JobsPlugin::~JobsPlugin() = default;

void JobsPlugin::add_driver(std::string name, DriverFactory factory) { factories_[std::move(name)] = std::move(factory); }

void JobsPlugin::set_hooks(Hooks hooks) { hooks_ = std::move(hooks); }

JobsPlugin::PipelinePtr JobsPlugin::create(const config::JobsPipelineConfig& cfg, std::string& error) {
  const auto f = factories_.find(cfg.driver);
  if (f == factories_.end()) {
    error = "driver " + cfg.driver + " is not available in this build";
    return nullptr;
  }
  auto p = std::make_shared<Pipeline>();
  p->cfg = cfg;
  p->driver = f->second(cfg, error);
  if (!p->driver) return nullptr;
  if (cfg.driver != "memory") {
    const auto q = cfg.config ? cfg.config->find("queue") : nlohmann::json::const_iterator();
    p->queue = cfg.config && q != cfg.config->end() && q->is_string() ? q->get<std::string>() : cfg.name;
  }
  return p;
}

void JobsPlugin::start() {
  for (const auto& pc : cfg_.pipelines) {
    std::string error;
    auto p = create(pc, error);
    if (!p) throw std::runtime_error("jobs pipeline " + pc.name + ": " + error);
    pipelines_[pc.name] = p;
    log_->info("event=jobs_pipeline pipeline={} driver={} priority={} max_attempts={} dead_letter={}", pc.name, pc.driver, pc.priority,
               pc.max_attempts, pc.dead_letter.empty() ? "-" : pc.dead_letter);
  }
  for (const auto& name : cfg_.consume) start_pollers(pipelines_.at(name));
  log_->info("event=jobs_started pipelines={} consumed={} pollers_per_pipeline={} pipeline_size={}", cfg_.pipelines.size(),
             cfg_.consume.size(), cfg_.num_pollers, cfg_.pipeline_size);
}

void JobsPlugin::start_pollers(const PipelinePtr& p) {
  // Called on strand_ or before the io_context runs.
  for (unsigned i = 0; i < cfg_.num_pollers; ++i) {
    ++running_pollers_;
    asio::co_spawn(asio::make_strand(io_), poll(p), asio::detached);
  }
}

void JobsPlugin::poller_done() {
  asio::post(strand_, [this] {
    --running_pollers_;
    if (running_pollers_ == 0 && stop_wait_ != nullptr) stop_wait_->cancel();
  });
}

asio::awaitable<void> JobsPlugin::stop() {
  co_await asio::co_spawn(
      strand_,
      [this]() -> asio::awaitable<void> {
        stopping_ = true;
        // Drivers first, so a poller whose job ends gets no new one; then the pool drains.
        for (auto& [name, p] : pipelines_) co_await p->driver->stop();
        co_await pool_.stop();
        while (running_pollers_ > 0) {
          asio::steady_timer t(strand_, std::chrono::steady_clock::time_point::max());
          stop_wait_ = &t;
          co_await t.async_wait(kTuple);
          stop_wait_ = nullptr;
        }
        log_->info("event=jobs_stopped pipelines={}", pipelines_.size());
      },
      asio::use_awaitable);
}

asio::awaitable<JobsPlugin::PipelinePtr> JobsPlugin::find(const std::string& name) {
  co_return co_await asio::co_spawn(
      strand_,
      [this, &name]() -> asio::awaitable<PipelinePtr> {
        const auto it = pipelines_.find(name);
        co_return it == pipelines_.end() ? nullptr : it->second;
      },
      asio::use_awaitable);
}

asio::awaitable<void> JobsPlugin::poll(PipelinePtr p) {
  std::string frame;  // reused for every task frame of this poller
  for (;;) {
    std::unique_ptr<Delivery> d = co_await p->driver->next();
    if (!d) break;
    co_await run_job(*p, std::move(d), frame);
  }
  poller_done();
}

asio::awaitable<void> JobsPlugin::run_job(Pipeline& p, std::unique_ptr<Delivery> d, std::string& frame) {
  const Job& job = d->job();
  protocol::DataFrameBuilder::begin(frame);
  protocol::append_job_context(frame, {job.id, job.name, p.cfg.driver, &job.headers, job.pipeline, p.queue});
  const auto context_len = static_cast<std::uint32_t>(frame.size() - protocol::DataFrameBuilder::kReserved);
  frame += job.payload;
  protocol::DataFrameBuilder::finish(frame, protocol::flags::kCodecRaw, context_len);

  pool::ExecResult r = co_await pool_.exec(frame);
  switch (r.outcome) {
    case pool::Outcome::Ok:
      break;
    case pool::Outcome::Stopping:
      d->nack(true, std::chrono::seconds(0));  // the server stops: back to the queue
      co_return;
    case pool::Outcome::NoWorker:
    case pool::Outcome::QueueFull:
      // Not the job's fault (no worker within allocate_timeout): back to the queue without using
      // up its attempts, after a pause so a pool that cannot boot is not hammered.
      log_->warn("event=job_no_worker pipeline={} id={} outcome={} action=requeue delay_s=1", job.pipeline, json_quoted(job.id),
                 pool::outcome_name(r.outcome));
      d->nack(true, std::chrono::seconds(1));
      co_return;
    default: {
      // ERROR frame, crash, exec_ttl, bad frame: the job is redelivered (max_attempts applies).
      if (hooks_.on_job) hooks_.on_job(false);
      co_await retry(p, *d, nullptr, 0, std::string(pool::outcome_name(r.outcome)) + ": " + r.error);
      co_return;
    }
  }
  if (r.frame.byte10 & protocol::stream_bits::kStream) {
    if (hooks_.on_job) hooks_.on_job(false);
    co_await retry(p, *d, nullptr, 0, "streaming is not supported");
    co_return;
  }
  std::string_view body(r.frame.payload);
  body.remove_prefix(std::min<std::size_t>(r.context_len, body.size()));
  if (body.empty()) body = std::string_view(r.frame.payload).substr(0, r.context_len);  // tolerate the reply in the context
  protocol::JobReply reply;
  if (const auto ec = protocol::decode_job_reply(body, reply)) {
    // RoadRunner acks an unreadable reply so a broken worker cannot loop a job forever.
    log_->warn("event=job_bad_reply pipeline={} id={} job={} pid={} error={} reply={} action=ack", job.pipeline, json_quoted(job.id),
               json_quoted(job.name), r.pid, json_quoted(ec.message()), json_quoted(body.substr(0, 256)));
    if (hooks_.on_job) hooks_.on_job(false);
    d->ack();
    co_return;
  }
  using T = protocol::JobReplyType;
  switch (static_cast<T>(reply.type)) {
    case T::no_error:
    case T::ack:
      if (hooks_.on_job) hooks_.on_job(true);
      d->ack();
      break;
    case T::error:
      if (hooks_.on_job) hooks_.on_job(false);
      log_->warn("event=job_failed pipeline={} id={} job={} pid={} message={} requeue={}", job.pipeline, json_quoted(job.id), json_quoted(job.name),
                 r.pid, json_quoted(reply.message), reply.requeue);
      if (reply.requeue) {
        co_await retry(p, *d, reply.has_headers ? &reply.headers : nullptr, reply.delay_seconds, "error: " + reply.message);
      } else {
        d->ack();  // RoadRunner: a failed job without requeue is acked, not nacked
      }
      break;
    case T::nack:
      if (hooks_.on_job) hooks_.on_job(false);
      if (reply.requeue) {
        co_await retry(p, *d, nullptr, reply.delay_seconds, "nack: " + reply.message);
      } else {
        co_await give_up(p, *d, "nack: " + reply.message);
      }
      break;
    case T::requeue:
      if (hooks_.on_job) hooks_.on_job(true);
      co_await retry(p, *d, reply.has_headers ? &reply.headers : nullptr, reply.delay_seconds, "requeue: " + reply.message);
      break;
    default:
      log_->warn("event=job_unknown_reply pipeline={} id={} type={} action=ack", job.pipeline, json_quoted(job.id), reply.type);
      if (hooks_.on_job) hooks_.on_job(true);
      d->ack();
  }
}

asio::awaitable<void> JobsPlugin::retry(Pipeline& p, Delivery& d, const Headers* extra_headers, std::int64_t delay,
                                        const std::string& reason) {
  const Job& job = d.job();
  if (job.auto_ack) {
    log_->warn("event=job_failed_auto_ack pipeline={} id={} job={} reason={} action=none", job.pipeline, json_quoted(job.id), json_quoted(job.name),
               json_quoted(reason));
    d.ack();
    co_return;
  }
  const std::uint32_t deliveries = job.attempts + 1;
  if (deliveries >= p.cfg.max_attempts) {
    co_await give_up(p, d, reason);
    co_return;
  }
  const auto wait = std::chrono::seconds(std::max<std::int64_t>(delay, 0));
  log_->info("event=job_retry pipeline={} id={} job={} attempt={} max_attempts={} delay_s={} reason={}", job.pipeline, json_quoted(job.id),
             json_quoted(job.name), deliveries, p.cfg.max_attempts, wait.count(), json_quoted(reason));
  if (extra_headers != nullptr) {
    Headers merged = job.headers;
    for (const auto& [k, v] : *extra_headers) merged[k] = v;
    d.requeue(std::move(merged), wait);
  } else {
    d.nack(true, wait);
  }
}

asio::awaitable<void> JobsPlugin::give_up(Pipeline& p, Delivery& d, const std::string& reason) {
  const Job& job = d.job();
  const std::uint32_t deliveries = job.attempts + 1;
  if (!p.cfg.dead_letter.empty()) {
    PipelinePtr dlq = co_await find(p.cfg.dead_letter);
    std::error_code ec;
    if (dlq) {
      Job copy = job;
      copy.pipeline = dlq->cfg.name;
      copy.attempts = 0;
      copy.delay = std::chrono::seconds(0);
      copy.headers[kFailedReason] = {reason};
      copy.headers[kFailedPipeline] = {p.cfg.name};
      copy.headers[kFailedAttempts] = {std::to_string(deliveries)};
      ec = co_await dlq->driver->push(std::move(copy));
      if (!ec) {
        log_->warn("event=job_dead_lettered pipeline={} id={} job={} attempts={} dead_letter={} reason={}", job.pipeline, json_quoted(job.id),
                   json_quoted(job.name), deliveries, p.cfg.dead_letter, json_quoted(reason));
        d.ack();
        co_return;
      }
    }
    log_->error("event=job_dropped pipeline={} id={} job={} attempts={} reason={} dead_letter={} dead_letter_error={}", job.pipeline,
                json_quoted(job.id), json_quoted(job.name), deliveries, json_quoted(reason), p.cfg.dead_letter,
                json_quoted(dlq ? ec.message() : "no such pipeline"));
    d.ack();
    co_return;
  }
  log_->error("event=job_dropped pipeline={} id={} job={} attempts={} max_attempts={} reason={}", job.pipeline, json_quoted(job.id),
              json_quoted(job.name), deliveries, p.cfg.max_attempts, json_quoted(reason));
  d.ack();
}

asio::awaitable<std::string> JobsPlugin::push(std::vector<Job> jobs, const char* source) {
  // Consecutive jobs for the same pipeline go to the driver as one batch (amqp overlaps their
  // publisher confirms); the first failure, in job order, is the answer.
  std::size_t first = 0;
  while (first < jobs.size()) {
    const std::string pipeline = jobs[first].pipeline;
    std::size_t end = first + 1;
    while (end < jobs.size() && jobs[end].pipeline == pipeline) ++end;
    PipelinePtr p = co_await find(pipeline);
    if (!p) co_return no_such_pipeline(pipeline);
    std::vector<Job> batch;
    batch.reserve(end - first);
    for (std::size_t i = first; i < end; ++i) {
      if (jobs[i].priority == 0) jobs[i].priority = p->cfg.priority;
      batch.push_back(std::move(jobs[i]));
    }
    const auto t0 = std::chrono::steady_clock::now();
    const std::vector<std::error_code> results = co_await p->driver->push_batch(std::move(batch));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (hooks_.on_push) {
      for (const auto& ec : results) hooks_.on_push(pipeline, p->cfg.driver, source, !ec, seconds);
    }
    for (const auto& ec : results) {
      if (ec) co_return "pipeline " + pipeline + ": " + ec.message();
    }
    first = end;
  }
  co_return std::string();
}

asio::awaitable<std::string> JobsPlugin::pause(std::vector<std::string> names, bool pause) {
  co_return co_await asio::co_spawn(
      strand_,
      // References into this coroutine's frame: it awaits the result (GCC 12 mishandles moved captures).
      [this, &names, pause]() -> asio::awaitable<std::string> {
        for (const auto& n : names) {
          if (!pipelines_.count(n)) co_return no_such_pipeline(n);
        }
        for (const auto& n : names) {
          auto& p = pipelines_.at(n);
          if (pause) {
            p->driver->pause();
          } else {
            p->driver->resume();
          }
          log_->info("event={} pipeline={}", pause ? "jobs_pipeline_paused" : "jobs_pipeline_resumed", n);
        }
        co_return std::string();
      },
      asio::use_awaitable);
}

asio::awaitable<std::vector<std::string>> JobsPlugin::list() {
  co_return co_await asio::co_spawn(
      strand_,
      [this]() -> asio::awaitable<std::vector<std::string>> {
        std::vector<std::string> out;
        for (const auto& [name, p] : pipelines_) out.push_back(name);
        co_return out;
      },
      asio::use_awaitable);
}

asio::awaitable<std::string> JobsPlugin::declare(config::JobsPipelineConfig cfg) {
  co_return co_await asio::co_spawn(
      strand_,
      [this, &cfg]() -> asio::awaitable<std::string> {
        if (stopping_) co_return std::string("the server is stopping");
        if (pipelines_.count(cfg.name)) co_return "pipeline already exists, name: " + cfg.name;
        if (!cfg.dead_letter.empty() && !pipelines_.count(cfg.dead_letter)) {
          co_return "dead_letter: " + no_such_pipeline(cfg.dead_letter);
        }
        std::string error;
        auto p = create(cfg, error);
        if (!p) co_return "pipeline " + cfg.name + ": " + error;
        pipelines_[cfg.name] = p;
        start_pollers(p);  // RoadRunner consumes a declared pipeline at once
        log_->info("event=jobs_pipeline_declared pipeline={} driver={} priority={} max_attempts={}", cfg.name, cfg.driver, cfg.priority,
                   cfg.max_attempts);
        co_return std::string();
      },
      asio::use_awaitable);
}

asio::awaitable<std::vector<std::string>> JobsPlugin::destroy(std::vector<std::string> names, std::string& error) {
  co_return co_await asio::co_spawn(
      strand_,
      [this, &names, &error]() -> asio::awaitable<std::vector<std::string>> {
        std::vector<std::string> out;
        for (const auto& n : names) {
          if (!pipelines_.count(n)) {
            error = no_such_pipeline(n);
            co_return out;
          }
        }
        for (const auto& n : names) {
          PipelinePtr p = pipelines_.at(n);
          pipelines_.erase(n);
          co_await p->driver->stop();  // its pollers end; in-flight jobs still settle safely
          out.push_back(n);
          log_->info("event=jobs_pipeline_destroyed pipeline={}", n);
        }
        co_return out;
      },
      asio::use_awaitable);
}

asio::awaitable<std::vector<PipelineStat>> JobsPlugin::stats() {
  std::vector<PipelinePtr> all = co_await asio::co_spawn(
      strand_,
      [this]() -> asio::awaitable<std::vector<PipelinePtr>> {
        std::vector<PipelinePtr> out;
        for (const auto& [name, p] : pipelines_) out.push_back(p);
        co_return out;
      },
      asio::use_awaitable);
  std::vector<PipelineStat> out;
  for (const auto& p : all) {
    PipelineStat s = co_await p->driver->stat();
    s.pipeline = p->cfg.name;
    s.driver = p->cfg.driver;
    if (s.queue.empty()) s.queue = p->queue;
    s.priority = static_cast<std::uint64_t>(p->cfg.priority);
    out.push_back(std::move(s));
  }
  co_return out;
}

}  // namespace pivot::jobs
