#include "server/plugins/jobs/memory_driver.hpp"

#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <deque>
#include <map>
#include <vector>

#include "server/plugins/jobs/jobs_error.hpp"

namespace pivot::jobs {
namespace {

constexpr auto kTuple = asio::experimental::as_tuple(asio::use_awaitable);
using Clock = std::chrono::steady_clock;

}  // namespace

struct MemoryDriver::Core : std::enable_shared_from_this<MemoryDriver::Core> {
  struct Entry {
    Job job;
    std::uint64_t seq = 0;
  };
  struct Waiter {
    explicit Waiter(const asio::strand<asio::io_context::executor_type>& s) : timer(s, Clock::time_point::max()) {}
    asio::steady_timer timer;
  };

  Core(asio::io_context& io, std::string name, std::int64_t prio, std::uint64_t cap, std::uint64_t pre)
      : strand(asio::make_strand(io)), delay_timer(strand), pipeline(std::move(name)), priority(prio), capacity(cap), prefetch(pre) {}

  // Heap order: the lowest priority number, then the oldest sequence number, on top.
  static bool later(const Entry& a, const Entry& b) {
    return a.job.priority != b.job.priority ? a.job.priority > b.job.priority : a.seq > b.seq;
  }

  std::uint64_t held() const { return ready.size() + delayed.size() + static_cast<std::uint64_t>(reserved); }

  void make_ready(Job job) {
    ready.push_back(Entry{std::move(job), ++seq});
    std::push_heap(ready.begin(), ready.end(), later);
  }

  void enqueue(Job job) {
    if (job.delay.count() > 0) {
      const auto due = Clock::now() + job.delay;
      const bool earliest = delayed.empty() || due < delayed.begin()->first;
      delayed.emplace(due, std::move(job));
      if (earliest) arm();
      return;
    }
    make_ready(std::move(job));
    wake(1);
  }

  void arm() {
    if (delayed.empty() || stopped) return;
    delay_timer.expires_at(delayed.begin()->first);
    delay_timer.async_wait([self = shared_from_this()](std::error_code ec) {
      if (!ec) self->promote();
    });
  }

  void promote() {
    const auto now = Clock::now();
    std::size_t moved = 0;
    while (!delayed.empty() && delayed.begin()->first <= now) {
      Job job = std::move(delayed.begin()->second);
      delayed.erase(delayed.begin());
      job.delay = std::chrono::seconds(0);
      make_ready(std::move(job));
      ++moved;
    }
    wake(moved);
    arm();
  }

  bool deliverable() const { return !paused && !ready.empty() && (prefetch == 0 || static_cast<std::uint64_t>(reserved) < prefetch); }

  void wake(std::size_t n) {
    while (n-- > 0 && !waiters.empty()) {
      Waiter* w = waiters.front();
      waiters.pop_front();
      w->timer.cancel();
    }
  }

  void wake_all() { wake(waiters.size()); }

  void settle(Job job, bool requeue) {
    --reserved;
    if (requeue) {
      ++job.attempts;
      enqueue(std::move(job));
    }
    if (prefetch != 0) wake(1);
  }

  asio::strand<asio::io_context::executor_type> strand;
  asio::steady_timer delay_timer;
  std::string pipeline;
  std::int64_t priority;
  std::uint64_t capacity;
  std::uint64_t prefetch;
  std::vector<Entry> ready;                       // heap ordered by later()
  std::multimap<Clock::time_point, Job> delayed;  // by due time
  std::deque<Waiter*> waiters;                    // FIFO of waiting next() calls
  std::int64_t reserved = 0;
  std::uint64_t seq = 0;
  bool paused = false;
  bool stopped = false;
};

namespace {

/// A job handed out by the memory driver; settling posts to the driver's strand.
class MemoryDelivery final : public Delivery {
 public:
  MemoryDelivery(std::shared_ptr<MemoryDriver::Core> core, Job job) : core_(std::move(core)), job_(std::move(job)) {}
  ~MemoryDelivery() override {
    if (!settled_) nack(true, std::chrono::seconds(0));
  }
  MemoryDelivery(const MemoryDelivery&) = delete;
  MemoryDelivery& operator=(const MemoryDelivery&) = delete;

  const Job& job() const override { return job_; }

  void ack() override { finish(false, std::chrono::seconds(0), nullptr); }
  void nack(bool requeue, std::chrono::seconds delay) override { finish(requeue, delay, nullptr); }
  void requeue(Headers headers, std::chrono::seconds delay) override { finish(true, delay, &headers); }

 private:
  void finish(bool requeue, std::chrono::seconds delay, Headers* headers) {
    if (settled_) return;
    settled_ = true;
    if (job_.auto_ack) return;  // already removed on receipt
    Job job = std::move(job_);
    job.delay = std::max(delay, std::chrono::seconds(0));
    if (headers != nullptr) job.headers = std::move(*headers);
    asio::post(core_->strand, [core = core_, job = std::move(job), requeue]() mutable { core->settle(std::move(job), requeue); });
  }

  std::shared_ptr<MemoryDriver::Core> core_;
  Job job_;
  bool settled_ = false;
};

// The coroutines below run on the core's strand. They take their state as parameters (copied
// into the coroutine frame) rather than as lambda captures, which GCC 12 mishandles.

asio::awaitable<std::error_code> do_push(std::shared_ptr<MemoryDriver::Core> core, Job job) {
  if (core->stopped) co_return make_error_code(JobsError::stopping);
  if (core->held() >= core->capacity) co_return make_error_code(JobsError::pipeline_full);
  core->enqueue(std::move(job));
  co_return std::error_code{};
}

asio::awaitable<std::unique_ptr<Delivery>> do_next(std::shared_ptr<MemoryDriver::Core> core) {
  using Core = MemoryDriver::Core;
  for (;;) {
    if (core->stopped) co_return nullptr;
    if (core->deliverable()) {
      std::pop_heap(core->ready.begin(), core->ready.end(), Core::later);
      Job job = std::move(core->ready.back().job);
      core->ready.pop_back();
      if (!job.auto_ack) ++core->reserved;
      // More jobs may be waiting for other pollers (several pushed before anyone woke).
      if (core->deliverable()) core->wake(1);
      co_return std::make_unique<MemoryDelivery>(core, std::move(job));
    }
    Core::Waiter w(core->strand);
    core->waiters.push_back(&w);
    co_await w.timer.async_wait(kTuple);
    core->waiters.erase(std::remove(core->waiters.begin(), core->waiters.end(), &w), core->waiters.end());
  }
}

asio::awaitable<PipelineStat> do_stat(std::shared_ptr<MemoryDriver::Core> core) {
  PipelineStat s;
  s.pipeline = core->pipeline;
  s.driver = "memory";
  s.active = static_cast<std::int64_t>(core->ready.size());
  s.delayed = static_cast<std::int64_t>(core->delayed.size());
  s.reserved = core->reserved;
  s.ready = !core->paused && !core->stopped;
  s.priority = static_cast<std::uint64_t>(core->priority);
  co_return s;
}

asio::awaitable<void> do_stop(std::shared_ptr<MemoryDriver::Core> core) {
  core->stopped = true;
  core->delay_timer.cancel();
  core->wake_all();
  co_return;
}

}  // namespace

MemoryDriver::MemoryDriver(asio::io_context& io, std::string pipeline, std::int64_t priority, std::uint64_t capacity,
                           std::uint64_t prefetch)
    : core_(std::make_shared<Core>(io, std::move(pipeline), priority, capacity, prefetch)) {}

MemoryDriver::~MemoryDriver() {
  asio::post(core_->strand, [core = core_] {
    core->stopped = true;
    core->delay_timer.cancel();
    core->wake_all();
  });
}

asio::awaitable<std::error_code> MemoryDriver::push(Job job) {
  co_return co_await asio::co_spawn(core_->strand, do_push(core_, std::move(job)), asio::use_awaitable);
}

asio::awaitable<std::unique_ptr<Delivery>> MemoryDriver::next() {
  co_return co_await asio::co_spawn(core_->strand, do_next(core_), asio::use_awaitable);
}

void MemoryDriver::pause() {
  asio::post(core_->strand, [core = core_] { core->paused = true; });
}

void MemoryDriver::resume() {
  asio::post(core_->strand, [core = core_] {
    core->paused = false;
    core->wake_all();
  });
}

asio::awaitable<PipelineStat> MemoryDriver::stat() {
  co_return co_await asio::co_spawn(core_->strand, do_stat(core_), asio::use_awaitable);
}

asio::awaitable<void> MemoryDriver::stop() { co_await asio::co_spawn(core_->strand, do_stop(core_), asio::use_awaitable); }

}  // namespace pivot::jobs
