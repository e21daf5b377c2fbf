#include "server/plugins/jobs/jobs_service.hpp"

#include <google/protobuf/util/json_util.h>
#include <nlohmann/json.hpp>

#include <algorithm>

#include "protocol/frame.hpp"
#include "protocol/proto/jobs.pb.h"
#include "protocol/rpc_frame.hpp"
#include "server/config/config_error.hpp"

namespace pivot::jobs {
namespace {

namespace pf = protocol::flags;
namespace jpb = ::jobs::v1;

struct MethodNames {
  const char* rpc_name;  // "jobs.Push"
  const char* rpc_op;    // RoadRunner's op prefix of error texts
};

constexpr MethodNames kNames[] = {
    {"jobs.Push", "rpc_push"},       {"jobs.PushBatch", "rpc_push_batch"}, {"jobs.Pause", "rpc_pause"},
    {"jobs.Resume", "rpc_resume"},   {"jobs.List", "rpc_list"},            {"jobs.Declare", "rpc_declare"},
    {"jobs.Destroy", "rpc_destroy"}, {"jobs.Stat", "rpc_stat"},
};

/// Decodes `body` with `codec` into `msg`; an empty body is the zero value (Go skips decoding).
bool decode(std::uint8_t codec, const std::string& body, google::protobuf::Message& msg, std::string& error) {
  if (body.empty()) return true;
  if (codec == pf::kCodecProto) {
    if (!msg.ParseFromString(body)) {
      error = "proto: cannot parse the argument as " + msg.GetTypeName();
      return false;
    }
    return true;
  }
  if (codec == pf::kCodecJson) {
    google::protobuf::util::JsonParseOptions opts;
    opts.ignore_unknown_fields = false;
    const auto st = google::protobuf::util::JsonStringToMessage(body, &msg, opts);
    if (!st.ok()) {
      error = "json: cannot decode the argument as " + msg.GetTypeName() + ": " + st.ToString();
      return false;
    }
    return true;
  }
  error = "unsupported codec: jobs.* accepts protobuf (0x80) or JSON (0x08)";
  return false;
}

std::string encode(std::uint8_t codec, const google::protobuf::Message& msg) {
  if (codec == pf::kCodecProto) return msg.SerializeAsString();
  google::protobuf::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = true;
  opts.always_print_primitive_fields = true;  // our PHP client reads every Stat field
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(msg, &out, opts);
  return out;
}

Job from_proto(const jpb::Job& in) {
  Job j;
  j.id = in.id();
  j.name = in.job();
  j.payload = in.payload();
  for (const auto& [k, v] : in.headers()) j.headers[k].assign(v.value().begin(), v.value().end());
  j.pipeline = in.options().pipeline();
  j.priority = in.options().priority();
  j.delay = std::chrono::seconds(std::max<std::int64_t>(in.options().delay(), 0));
  j.auto_ack = in.options().auto_ack();
  return j;
}

std::vector<std::string> names_of(const jpb::Pipelines& p) { return {p.pipelines().begin(), p.pipelines().end()}; }

}  // namespace

JobsService::JobsService(JobsPlugin& plugin, std::shared_ptr<spdlog::logger> log) : plugin_(plugin), log_(std::move(log)) {}

void JobsService::register_methods(core::RpcRegistry& registry) {
  for (Method m : {Method::push, Method::push_batch, Method::pause, Method::resume, Method::list, Method::declare, Method::destroy,
                   Method::stat}) {
    registry.add(kNames[static_cast<int>(m)].rpc_name, [this, m](const core::RpcCall& c) { return handle(m, c); });
  }
}

asio::awaitable<core::RpcResult> JobsService::handle(Method method, const core::RpcCall& call) {
  const MethodNames& names = kNames[static_cast<int>(method)];
  const std::uint8_t codec = protocol::rpc_codec(call.flags);
  const auto fail = [&](const std::string& text) {
    log_->debug("event=jobs_rpc_failed method={} error=\"{}\"", names.rpc_name, text);
    return core::RpcResult::fail(std::string(names.rpc_op) + ": " + text);
  };
  const auto reply = [&](const google::protobuf::Message& msg) { return core::RpcResult::reply(encode(codec, msg), codec); };
  std::string error;
  switch (method) {
    case Method::push:
    case Method::push_batch: {
      std::vector<Job> jobs;
      if (method == Method::push) {
        jpb::PushRequest req;
        if (!decode(codec, call.body, req, error)) co_return fail(error);
        jobs.push_back(from_proto(req.job()));
      } else {
        jpb::PushBatchRequest req;
        if (!decode(codec, call.body, req, error)) co_return fail(error);
        jobs.reserve(static_cast<std::size_t>(req.jobs_size()));
        for (const auto& j : req.jobs()) jobs.push_back(from_proto(j));
      }
      for (const auto& j : jobs) {
        if (j.id.empty()) co_return fail("empty ID field not allowed");
      }
      error = co_await plugin_.push(std::move(jobs), method == Method::push ? "single" : "batch");
      if (!error.empty()) co_return fail(error);
      co_return reply(jpb::Empty());
    }
    case Method::pause:
    case Method::resume: {
      jpb::Pipelines req;
      if (!decode(codec, call.body, req, error)) co_return fail(error);
      error = co_await plugin_.pause(names_of(req), method == Method::pause);
      if (!error.empty()) co_return fail(error);
      co_return reply(jpb::Empty());
    }
    case Method::list: {
      jpb::Pipelines out;
      for (auto& n : co_await plugin_.list()) out.add_pipelines(std::move(n));
      co_return reply(out);
    }
    case Method::declare: {
      jpb::DeclareRequest req;
      if (!decode(codec, call.body, req, error)) co_return fail(error);
      // name, driver and priority are the pipeline's; every other key is a driver setting.
      std::string name;
      nlohmann::json spec = nlohmann::json::object();
      nlohmann::json settings = nlohmann::json::object();
      for (const auto& [k, v] : req.pipeline()) {
        if (k == "name") {
          name = v;
        } else if (k == "driver") {
          spec["driver"] = v;
        } else {
          settings[k] = v;
        }
      }
      if (name.empty()) co_return fail("the pipeline needs a name (key \"name\")");
      spec["config"] = std::move(settings);
      config::JobsPipelineConfig cfg;
      try {
        cfg = config::parse_jobs_pipeline(name, spec, "jobs.pipelines." + name);
      } catch (const config::ConfigError& e) {
        co_return fail(e.what());
      }
      error = co_await plugin_.declare(std::move(cfg));
      if (!error.empty()) co_return fail(error);
      co_return reply(jpb::Empty());
    }
    case Method::destroy: {
      jpb::Pipelines req;
      if (!decode(codec, call.body, req, error)) co_return fail(error);
      const auto destroyed = co_await plugin_.destroy(names_of(req), error);
      if (!error.empty()) co_return fail(error);
      jpb::Pipelines out;
      for (const auto& n : destroyed) out.add_pipelines(n);
      co_return reply(out);
    }
    case Method::stat: {
      jpb::Stats out;
      for (const auto& s : co_await plugin_.stats()) {
        auto* o = out.add_stats();
        o->set_pipeline(s.pipeline);
        o->set_driver(s.driver);
        o->set_queue(s.queue);
        o->set_active(s.active);
        o->set_delayed(s.delayed);
        o->set_reserved(s.reserved);
        o->set_ready(s.ready);
        o->set_priority(s.priority);
      }
      co_return reply(out);
    }
  }
  co_return fail("unknown method");
}

}  // namespace pivot::jobs
