#include "server/cli/app.hpp"

#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <asio/use_awaitable.hpp>

#include <csignal>
#include <map>
#include <thread>
#include <vector>

#include "server/core/logging.hpp"
#include "server/core/version.hpp"
#include "server/http/listener.hpp"
#include "server/plugins/status/status_server.hpp"
#include "server/core/sd_notify.hpp"
#include "server/plugins/reload/file_watcher.hpp"
#include "server/core/rpc_registry.hpp"
#include "server/plugins/rpc/informer_service.hpp"
#include "server/plugins/rpc/resetter_service.hpp"
#include "server/plugins/rpc/rpc_server.hpp"
#include "server/plugins/rpc/rpc_service.hpp"
#include "server/plugins/kv/kv_service.hpp"  // KV plugin (issue #5)
#include "server/plugins/metrics/metrics_plugin.hpp"  // Metrics plugin (issue #5)
#include "server/plugins/jobs/jobs_plugin.hpp"  // Jobs plugin (issue #6)
#include "server/plugins/jobs/jobs_service.hpp"  // Jobs plugin (issue #6)
#include "server/plugins/jobs/amqp_driver.hpp"  // Jobs plugin (issue #6): amqp driver
#include "server/pool/pool.hpp"

extern char** environ;

namespace pivot::cli {
namespace {

/// The worker environment in RoadRunner's order; later entries win (protocol doc §2.1).
std::vector<std::string> worker_environment(const config::Config& cfg, const std::string& mode) {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    const std::string kv(*e);
    const auto eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  // systemd's notify socket and watchdog belong to the server, not to its workers.
  for (const char* k : {"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"}) env.erase(k);
  env["RR_RELAY"] = cfg.server.relay;
  if (cfg.rpc.enabled) env["RR_RPC"] = rpc::ListenAddress::parse(cfg.rpc.listen).to_string();
  for (const auto& [k, v] : cfg.server.env) env[k] = v;
  env["RR_VERSION"] = std::string(core::kRoadRunnerCompatVersion);
  env["PIVOT_VERSION"] = std::string(core::kVersion);
  env["RR_MODE"] = mode;
  std::vector<std::string> out;
  out.reserve(env.size());
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

}  // namespace

App::App(config::Config cfg) : cfg_(std::move(cfg)) {}

int App::run() {
  core::Logging logging(cfg_.logs.level, cfg_.logs.encoding);
  auto log = logging.get("server");
  for (const auto& w : cfg_.warnings) log->warn("event=config_warning message=\"{}\"", w);

  asio::io_context io(static_cast<int>(cfg_.http.io_threads));

  // Metrics plugin (issue #5): created first so the pool and the sessions can record into it.
  std::unique_ptr<metrics::MetricsPlugin> metrics_plugin;
  if (cfg_.metrics.enabled) metrics_plugin = std::make_unique<metrics::MetricsPlugin>(io, cfg_.metrics, logging.get("metrics"));

  pool::Pool::Options opts;
  opts.name = "http";
  opts.cfg = cfg_.http.pool;
  opts.argv = cfg_.server.command;
  opts.env = worker_environment(cfg_, "http");
  opts.single_threaded = cfg_.http.io_threads == 1;
  if (metrics_plugin) opts.on_retire = metrics_plugin->restart_hook("http");  // Metrics plugin
  pool::Pool pool(io, std::move(opts), logging.get("pool"), logging.get("worker"));
  // Jobs plugin (issue #6): its own pool (RR_MODE=jobs, same server.command and env as http).
  std::unique_ptr<pool::Pool> jobs_pool;
  std::unique_ptr<jobs::JobsPlugin> jobs_plugin;
  if (cfg_.jobs.enabled) {
    pool::Pool::Options jopts;
    jopts.name = "jobs";
    jopts.cfg = cfg_.jobs.pool;
    jopts.argv = cfg_.server.command;
    jopts.env = worker_environment(cfg_, "jobs");
    if (metrics_plugin) jopts.on_retire = metrics_plugin->restart_hook("jobs");
    jobs_pool = std::make_unique<pool::Pool>(io, std::move(jopts), logging.get("pool"), logging.get("worker"));
    jobs_plugin = std::make_unique<jobs::JobsPlugin>(io, cfg_.jobs, *jobs_pool, logging.get("jobs"));
    // amqp pipelines (RabbitMQ at amqp.addr); a bad pipeline key fails start() naming the key.
    jobs_plugin->add_driver("amqp", [&io, addr = cfg_.amqp.addr, log = logging.get("jobs")](
                                        const config::JobsPipelineConfig& p, std::string& error) -> std::unique_ptr<jobs::Driver> {
      try {
        return jobs::make_amqp_driver(io, p, addr, log);
      } catch (const std::exception& e) {
        error = e.what();
        return nullptr;
      }
    });
    if (metrics_plugin) {  // rr_jobs_push_*, rr_jobs_jobs_*, rr_jobs_push_latency
      metrics::JobsMetrics* jm = &metrics_plugin->jobs();
      jobs_plugin->set_hooks({[jm](const std::string& pipeline, const std::string& driver, const char* source, bool ok, double s) {
                                jm->push(pipeline, driver, source, ok, s);
                              },
                              [jm](bool ok) { jm->job(ok); }});
    }
  }
  http::Listener listener(io, cfg_.http, pool, logging.get("http"), logging.get_structured("access"), logging.json());
  if (metrics_plugin) listener.set_http_metrics(&metrics_plugin->http());  // Metrics plugin
  listener.start();
  std::unique_ptr<status::StatusServer> status_server;
  if (cfg_.status.enabled) {
    status_server = std::make_unique<status::StatusServer>(io, cfg_.status, std::vector<pool::Pool*>{&pool}, logging.get("status"));
    status_server->start();
  }
  // RPC (protocol doc §5): every service registers here, before serving; the registry is
  // read-only from then on.
  core::RpcRegistry rpc_registry;
  std::vector<std::reference_wrapper<pool::Pool>> rpc_pools{pool};
  if (jobs_pool) rpc_pools.emplace_back(*jobs_pool);  // Jobs plugin: workers jobs, reset jobs
  rpc::InformerService informer(rpc_pools);
  if (jobs_plugin) {
    // informer.Jobs: the pipelines' states with RoadRunner's Go field names (protocol doc §5.5).
    informer.set_jobs_source([&jobs_plugin](const std::string& plugin) -> asio::awaitable<nlohmann::ordered_json> {
      if (plugin != "jobs") co_return nullptr;
      auto out = nlohmann::ordered_json::array();
      for (const auto& s : co_await jobs_plugin->stats()) {
        out.push_back({{"Pipeline", s.pipeline}, {"Driver", s.driver}, {"Queue", s.queue}, {"Active", s.active},
                       {"Delayed", s.delayed}, {"Reserved", s.reserved}, {"Ready", s.ready}, {"Priority", s.priority},
                       {"ErrorMessage", ""}});
      }
      co_return out;
    });
  }
  rpc::ResetterService resetter(rpc_pools, logging.get("rpc"));
  rpc::RpcService rpc_self(std::string(core::kVersion), cfg_.json);
  informer.register_methods(rpc_registry);
  resetter.register_methods(rpc_registry);
  rpc_self.register_methods(rpc_registry);
  // KV plugin (issue #5): kv.* storages, reachable over RPC only (no rpc section, no kv).
  std::unique_ptr<kv::KvService> kv_service;
  if (cfg_.kv.enabled && cfg_.rpc.enabled) {
    kv_service = std::make_unique<kv::KvService>(io, cfg_.kv, logging.get("kv"));
    kv_service->register_methods(rpc_registry);
    kv_service->start();
  }
  // Metrics plugin (issue #5): metrics.* RPC methods, and the /metrics endpoint.
  if (metrics_plugin) {
    if (cfg_.rpc.enabled) metrics_plugin->register_methods(rpc_registry);
    std::vector<pool::Pool*> metric_pools{&pool};
    if (jobs_pool) metric_pools.push_back(jobs_pool.get());  // rr_jobs_* worker gauges
    metrics_plugin->start(std::move(metric_pools));
  }
  // Jobs plugin (issue #6): jobs.* methods.
  std::unique_ptr<jobs::JobsService> jobs_service;
  if (jobs_plugin && cfg_.rpc.enabled) {
    jobs_service = std::make_unique<jobs::JobsService>(*jobs_plugin, logging.get("jobs"));
    jobs_service->register_methods(rpc_registry);
  }
  std::unique_ptr<rpc::RpcServer> rpc_server;
  if (cfg_.rpc.enabled) {
    rpc_server = std::make_unique<rpc::RpcServer>(io, rpc::ListenAddress::parse(cfg_.rpc.listen), rpc_registry, logging.get("rpc"));
    rpc_server->start();
  }
  pool.start();
  if (jobs_plugin) {
    jobs_pool->start();
    jobs_plugin->start();
  }

  // systemd (Type=notify): READY=1 once the pool has its workers, WATCHDOG=1 while the loop runs.
  core::SdNotifier notifier;
  asio::steady_timer notify_timer(io);
  if (notifier.enabled()) {
    log->info("event=systemd_notify socket={} watchdog_ms={}", notifier.socket_path(),
              std::chrono::duration_cast<std::chrono::milliseconds>(notifier.watchdog_interval()).count());
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
      const auto deadline = std::chrono::steady_clock::now() + cfg_.http.pool.allocate_timeout;
      for (;;) {
        const pool::PoolStatus st = co_await pool.status();
        if (st.stopping_pool) co_return;
        if (st.ready + st.working >= st.desired || std::chrono::steady_clock::now() >= deadline) {
          notifier.notify("READY=1\nSTATUS=serving with " + std::to_string(st.ready + st.working) + " of " +
                          std::to_string(st.desired) + " workers");
          break;
        }
        notify_timer.expires_after(std::chrono::milliseconds(20));
        auto [ec] = co_await notify_timer.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
        if (ec) co_return;
      }
      const auto every = notifier.watchdog_interval() / 2;
      while (every.count() > 0) {
        notifier.notify("WATCHDOG=1");
        notify_timer.expires_after(every);
        auto [ec] = co_await notify_timer.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
        if (ec) co_return;
      }
    }, asio::detached);
  }

  // Hot reload (development): a change to a watched file resets that plugin's pool.
  std::vector<std::unique_ptr<reload::FileWatcher>> watchers;
  if (cfg_.reload.enabled) {
    for (const auto& target : cfg_.reload.plugins) {
      watchers.push_back(std::make_unique<reload::FileWatcher>(
          io, cfg_.reload.interval, target,
          [&pool, &io](const std::string&) { asio::co_spawn(io, pool.reset(), asio::detached); }, logging.get("reload")));
      watchers.back()->start();
    }
  }
  log->info("event=started version={} pid={} workers={} io_threads={}", core::kVersion, ::getpid(), cfg_.http.pool.num_workers,
            cfg_.http.io_threads);

  asio::signal_set signals(io, SIGINT, SIGTERM);
  asio::signal_set reload_signal(io, SIGHUP);
  auto shutdown = [&]() -> asio::awaitable<void> {
    auto [ec, sig] = co_await signals.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    log->info("event=shutdown_begin signal={} destroy_timeout_ms={}", sig, cfg_.http.pool.destroy_timeout.count());
    // A second signal while draining stops at once.
    signals.async_wait([&](std::error_code e, int s) {
      if (e) return;
      log->warn("event=shutdown_forced signal={}", s);
      io.stop();
    });
    // Readiness fails first so load balancers stop sending traffic, then the pool drains.
    if (status_server) status_server->set_draining();
    notifier.notify("STOPPING=1");
    notify_timer.cancel();
    for (auto& w : watchers) w->stop();
    reload_signal.cancel();
    if (rpc_server) rpc_server->stop();
    if (kv_service) kv_service->stop();  // KV plugin: sweep timers end, so io can drain
    listener.stop();
    // Jobs: drivers stop handing out jobs, in-flight ones finish (bounded by the jobs pool's
    // destroy_timeout), then the jobs pool is down.
    if (jobs_plugin) co_await jobs_plugin->stop();
    co_await pool.stop();
    co_await listener.wait_sessions(std::chrono::steady_clock::now() + std::chrono::seconds(5));
    signals.cancel();
    if (status_server) status_server->stop();
    if (metrics_plugin) metrics_plugin->stop();  // Metrics plugin: scrapes work until the pool is down
    log->info("event=shutdown_complete");
  };
  asio::co_spawn(io, shutdown(), asio::detached);

  // SIGHUP: rolling reset of every pool, as `pivot-server reset` does.
  auto reload = [&]() -> asio::awaitable<void> {
    for (;;) {
      auto [ec, sig] = co_await reload_signal.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      log->info("event=reset_signal signal={}", sig);
      notifier.notify("RELOADING=1");
      bool ok = co_await pool.reset();
      if (jobs_pool) ok = co_await jobs_pool->reset() && ok;  // Jobs plugin: its pool too
      notifier.notify(ok ? "READY=1" : "READY=1\nSTATUS=reset did not finish within reset_timeout; old workers still serving");
      log->info("event=reset_signal_done pool={} ok={}", pool.name(), ok);
    }
  };
  asio::co_spawn(io, reload(), asio::detached);

  std::vector<std::thread> threads;
  for (unsigned i = 1; i < cfg_.http.io_threads; ++i) threads.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : threads) t.join();
  return 0;
}

}  // namespace pivot::cli
