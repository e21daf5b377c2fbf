#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "protocol/frame.hpp"
#include "protocol/frame_decoder.hpp"
#include "protocol/proto/jobs.pb.h"
#include "protocol/rpc_frame.hpp"
#include "tests/integration/harness.hpp"
#include "tests/integration/rpc_client.hpp"

using namespace pivot::test;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;
namespace pf = pivot::protocol::flags;
namespace jpb = ::jobs::v1;

namespace {

/// The shared raw RPC client plus jobs.v1 protobuf and JSON calls.
class RpcConn : public RpcClient {
 public:
  using RpcClient::RpcClient;

  /// A protobuf call that must succeed; returns the reply bytes.
  std::string proto(const std::string& method, const google::protobuf::Message& req) {
    const auto m = call(method, pf::kCodecProto, req.SerializeAsString());
    INFO(method << " -> " << m.body);
    REQUIRE_FALSE(m.is_error());
    CHECK(m.flags == pf::kCodecProto);
    return m.body;
  }
  /// A protobuf call with an empty argument (PHP sends '' for List and Stat).
  std::string proto_empty(const std::string& method) {
    const auto m = call(method, pf::kCodecProto, "");
    REQUIRE_FALSE(m.is_error());
    return m.body;
  }
  /// A call that must fail; returns the error text.
  std::string error(const std::string& method, std::uint8_t codec, const std::string& body) {
    const auto m = call(method, codec, body);
    CHECK(m.is_error());
    CHECK(m.flags == (codec | pf::kError));
    return m.body;
  }
  /// A JSON call that must succeed; returns the parsed reply.
  nlohmann::json json(const std::string& method, const nlohmann::json& arg) {
    const auto m = call(method, pf::kCodecJson, arg.is_null() ? std::string() : arg.dump());
    INFO(method << " -> " << m.body);
    REQUIRE_FALSE(m.is_error());
    CHECK(m.flags == pf::kCodecJson);
    return nlohmann::json::parse(m.body);
  }
};

jpb::Job make_job(const std::string& id, const std::string& name, const std::string& pipeline, std::int64_t priority = 0,
                  std::int64_t delay = 0, const std::string& payload = "") {
  jpb::Job j;
  j.set_id(id);
  j.set_job(name);
  j.set_payload(payload);
  j.mutable_options()->set_pipeline(pipeline);
  j.mutable_options()->set_priority(priority);
  j.mutable_options()->set_delay(delay);
  return j;
}

jpb::PushRequest push_req(const jpb::Job& j) {
  jpb::PushRequest r;
  *r.mutable_job() = j;
  return r;
}

jpb::Pipelines pipelines(std::initializer_list<std::string> names) {
  jpb::Pipelines p;
  for (const auto& n : names) p.add_pipelines(n);
  return p;
}

/// The consumer's JSON lines (tests/integration/workers/jobs_consumer.php).
struct Records {
  std::string path;
  /// Every complete line: a worker may be appending the last one right now (its flock does
  /// not stop an unlocked reader), so a tail without its newline is left for the next read.
  std::vector<nlohmann::json> read() const {
    std::vector<nlohmann::json> out;
    std::ifstream in(path, std::ios::binary);
    const std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (std::size_t pos = 0, nl; (nl = all.find('\n', pos)) != std::string::npos; pos = nl + 1) {
      if (nl > pos) out.push_back(nlohmann::json::parse(all.substr(pos, nl - pos)));
    }
    return out;
  }
  /// Waits until `done(lines)` holds; returns the last lines read.
  std::vector<nlohmann::json> wait(const std::function<bool(const std::vector<nlohmann::json>&)>& done,
                                   std::chrono::milliseconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto lines = read();
      if (done(lines) || std::chrono::steady_clock::now() >= deadline) return lines;
      std::this_thread::sleep_for(20ms);
    }
  }
  std::vector<nlohmann::json> of(const std::vector<nlohmann::json>& lines, const std::string& id) const {
    std::vector<nlohmann::json> out;
    for (const auto& l : lines) {
      if (l["id"] == id) out.push_back(l);
    }
    return out;
  }
};

/// A server with an rpc section and a jobs section whose pool runs jobs_consumer.php.
struct JobsServer {
  explicit JobsServer(const std::string& pipelines_yaml, unsigned workers = 2, const std::string& jobs_extra = "",
                      const std::string& pool_extra = "", const std::string& log_level = "info")
      : rpc_port(free_port()) {
    char tmpl[] = "/tmp/pivot-jobs-XXXXXX";
    dir = ::mkdtemp(tmpl);
    records.path = dir + "/out.jsonl";
    const std::string yaml = "version: \"3\"\n"
                             "server:\n"
                             "  command: \"php {{WORKERS}}/app.php\"\n"
                             "  env:\n"
                             "    JOBS_OUT: " + records.path + "\n"
                             "http:\n"
                             "  address: 127.0.0.1:{{PORT}}\n"
                             "  pool:\n"
                             "    num_workers: 1\n"
                             "rpc:\n"
                             "  listen: tcp://127.0.0.1:" + std::to_string(rpc_port) + "\n"
                             "jobs:\n" + jobs_extra +
                             "  pool:\n"
                             "    command: \"php {{WORKERS}}/jobs_consumer.php\"\n"
                             "    num_workers: " + std::to_string(workers) + "\n" + pool_extra + pipelines_yaml +
                             "logs:\n"
                             "  level: " + log_level + "\n";
    server = std::make_unique<ServerProcess>(yaml);
    if (!server->wait_log("event=worker_ready pool=jobs", 15s, static_cast<int>(workers))) {
      FAIL("jobs workers not ready:\n" << server->log());
    }
  }
  ~JobsServer() {
    server.reset();
    run_command("rm -rf '" + dir + "'");
  }
  std::string rpc() const { return "tcp://127.0.0.1:" + std::to_string(rpc_port); }

  int rpc_port;
  std::string dir;
  Records records;
  std::unique_ptr<ServerProcess> server;
};

std::map<std::string, jpb::Stat> stats_of(RpcConn& rpc) {
  jpb::Stats s;
  REQUIRE(s.ParseFromString(rpc.proto_empty("jobs.Stat")));
  std::map<std::string, jpb::Stat> out;
  for (const auto& st : s.stats()) out[st.pipeline()] = st;
  return out;
}

bool settled(RpcConn& rpc, const std::string& pipeline) {
  const auto s = stats_of(rpc).at(pipeline);
  return s.active() == 0 && s.delayed() == 0 && s.reserved() == 0;
}

}  // namespace

TEST_CASE("jobs: 10,000 jobs pushed from PHP through memory are all processed", "[integration][jobs]") {
  JobsServer js("  consume: [\"default\"]\n"
                "  pipelines:\n"
                "    default:\n"
                "      driver: memory\n");
  constexpr int kJobs = 10000;
  const auto t0 = std::chrono::steady_clock::now();
  int st = -1;
  const std::string out = run_command("php " + workers_dir() + "/jobs_push.php " + js.rpc() + " default " + std::to_string(kJobs) + " 500", &st);
  INFO(out);
  REQUIRE(st == 0);
  const auto pushed = nlohmann::json::parse(out);
  REQUIRE(pushed.value("pushed", 0) == kJobs);
  const auto lines = js.records.wait([&](const auto& l) { return l.size() >= static_cast<std::size_t>(kJobs); }, 120s);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::set<std::string> ids;
  std::size_t duplicates = 0;
  for (const auto& l : lines) {
    if (!ids.insert(l["id"].get<std::string>()).second) ++duplicates;
  }
  WARN("memory driver: " << kJobs << " jobs pushed (PHP, JSON PushBatch of 500) and processed by 2 workers in " << seconds
                         << " s = " << static_cast<int>(kJobs / seconds) << " jobs/s; push alone " << pushed["seconds"].get<double>()
                         << " s; duplicates " << duplicates);
  CHECK(ids.size() == static_cast<std::size_t>(kJobs));
  CHECK(duplicates == 0);
  // The task context and body as the consumer saw them (protocol doc §4.1).
  const auto first = js.records.of(lines, "php-000042");
  REQUIRE(first.size() == 1);
  CHECK(first[0]["job"] == "record");
  CHECK(first[0]["pipeline"] == "default");
  CHECK(first[0]["driver"] == "memory");
  CHECK(first[0]["has_queue"] == false);
  CHECK(first[0]["payload"] == "payload 42");
  CHECK(first[0]["headers"] == nlohmann::json{{"n", {"42"}}});
  RpcConn rpc(js.rpc_port);
  CHECK(settled(rpc, "default"));
}

TEST_CASE("jobs: priorities are honoured (lowest first, 0 = the pipeline's) and delays wait", "[integration][jobs]") {
  JobsServer js("  num_pollers: 1\n"
                "  consume: [\"default\"]\n"
                "  pipelines:\n"
                "    default:\n"
                "      driver: memory\n"
                "      config:\n"
                "        priority: 4\n",
                1);
  RpcConn rpc(js.rpc_port);
  rpc.proto("jobs.Pause", pipelines({"default"}));
  CHECK_FALSE(stats_of(rpc).at("default").ready());
  jpb::PushBatchRequest batch;
  *batch.add_jobs() = make_job("p7", "record", "default", 7);
  *batch.add_jobs() = make_job("p1", "record", "default", 1);
  *batch.add_jobs() = make_job("p0", "record", "default", 0);  // gets the pipeline's 4
  *batch.add_jobs() = make_job("p3", "record", "default", 3);
  *batch.add_jobs() = make_job("p1b", "record", "default", 1);
  rpc.proto("jobs.PushBatch", batch);
  CHECK(stats_of(rpc).at("default").active() == 5);
  rpc.proto("jobs.Resume", pipelines({"default"}));
  auto lines = js.records.wait([](const auto& l) { return l.size() >= 5; }, 10s);
  std::string order;
  for (const auto& l : lines) order += l["id"].get<std::string>() + " ";
  CHECK(order == "p1 p1b p3 p0 p7 ");

  const auto t0 = std::chrono::steady_clock::now();
  rpc.proto("jobs.Push", push_req(make_job("late", "record", "default", 0, 2)));
  const auto s = stats_of(rpc).at("default");
  CHECK(s.delayed() == 1);
  rpc.proto("jobs.Push", push_req(make_job("soon", "record", "default")));
  lines = js.records.wait([&](const auto& l) { return !js.records.of(l, "late").empty(); }, 10s);
  const auto waited = std::chrono::steady_clock::now() - t0;
  REQUIRE(js.records.of(lines, "late").size() == 1);
  CHECK(waited >= 1900ms);
  CHECK(lines.size() == 7);
  CHECK(lines[5]["id"] == "soon");  // the undelayed job did not wait for the delayed one
  CHECK(lines[6]["id"] == "late");
}

TEST_CASE("jobs: a crash, an ERROR frame and exec_ttl all lead to redelivery; requeue carries headers", "[integration][jobs]") {
  JobsServer js("  consume: [\"default\"]\n"
                "  pipelines:\n"
                "    default:\n"
                "      driver: memory\n",
                2, "", "    supervisor:\n      exec_ttl: 1s\n");
  RpcConn rpc(js.rpc_port);
  jpb::PushBatchRequest batch;
  *batch.add_jobs() = make_job("c1", "crash_once", "default");
  *batch.add_jobs() = make_job("e1", "error_once", "default");
  *batch.add_jobs() = make_job("t1", "timeout_once", "default");
  *batch.add_jobs() = make_job("r1", "requeue_once", "default");
  rpc.proto("jobs.PushBatch", batch);
  const auto lines = js.records.wait(
      [&](const auto& l) {
        for (const char* id : {"c1", "e1", "t1", "r1"}) {
          const auto r = js.records.of(l, id);
          if (r.empty() || r.back()["event"] != "ack") return false;
        }
        return true;
      },
      20s);
  INFO(js.server->log());
  for (const auto& [id, first] : std::map<std::string, std::string>{{"c1", "crash"}, {"e1", "error"}, {"t1", "timeout"}, {"r1", "requeue"}}) {
    const auto r = js.records.of(lines, id);
    INFO(id);
    REQUIRE(r.size() == 2);
    CHECK(r[0]["event"] == first);
    CHECK(r[1]["event"] == "ack");
  }
  CHECK(js.records.of(lines, "r1")[1]["headers"] == nlohmann::json{{"retried", {"yes"}}});
  CHECK(js.server->log().find("event=exec_ttl_expired pool=jobs") != std::string::npos);
  CHECK(js.server->log().find("event=job_retry pipeline=default id=\"c1\"") != std::string::npos);
  CHECK(settled(rpc, "default"));
}

TEST_CASE("jobs: after max_attempts a job goes to the dead-letter pipeline, then is dropped, never looping", "[integration][jobs]") {
  JobsServer js("  consume: [\"work\", \"dead\"]\n"
                "  pipelines:\n"
                "    work:\n"
                "      driver: memory\n"
                "      config:\n"
                "        retry:\n"
                "          max_attempts: 2\n"
                "        dead_letter: dead\n"
                "    dead:\n"
                "      driver: memory\n");
  RpcConn rpc(js.rpc_port);
  rpc.proto("jobs.Push", push_req(make_job("n1", "always_nack", "work", 0, 0, "body")));
  rpc.proto("jobs.Push", push_req(make_job("d1", "nack_drop", "dead")));
  REQUIRE(js.server->wait_log("event=job_dropped pipeline=dead id=\"n1\"", 15s));
  REQUIRE(js.server->wait_log("event=job_dropped pipeline=dead id=\"d1\"", 5s));
  CHECK(js.server->log().find("event=job_dead_lettered pipeline=work id=\"n1\"") != std::string::npos);
  CHECK(settled(rpc, "work"));
  CHECK(settled(rpc, "dead"));
  const auto lines = js.records.read();
  const auto n1 = js.records.of(lines, "n1");
  REQUIRE(n1.size() == 5);  // 2 deliveries in work, then 3 (the default max_attempts) in dead
  CHECK(n1[0]["pipeline"] == "work");
  CHECK(n1[1]["pipeline"] == "work");
  for (int i = 2; i < 5; ++i) {
    CHECK(n1[i]["pipeline"] == "dead");
    CHECK(n1[i]["payload"] == "body");
    CHECK(n1[i]["headers"]["x-pivot-failed-reason"] == nlohmann::json{"nack: cannot process"});
    CHECK(n1[i]["headers"]["x-pivot-failed-pipeline"] == nlohmann::json{"work"});
    CHECK(n1[i]["headers"]["x-pivot-attempts"] == nlohmann::json{"2"});
  }
  CHECK(js.records.of(lines, "d1").size() == 1);
}

TEST_CASE("jobs: RPC in protobuf and JSON: push, errors, declare, pause, resume, stat, destroy", "[integration][jobs][rpc]") {
  JobsServer js("  consume: [\"default\"]\n"
                "  pipelines:\n"
                "    default:\n"
                "      driver: memory\n");
  RpcConn rpc(js.rpc_port);

  // Errors in both codecs, with RoadRunner's texts.
  CHECK(rpc.error("jobs.Push", pf::kCodecProto, push_req(make_job("", "record", "default")).SerializeAsString()) ==
        "rpc_push: empty ID field not allowed");
  CHECK_THAT(rpc.error("jobs.Push", pf::kCodecProto, push_req(make_job("x", "record", "nope")).SerializeAsString()),
             Contains("no such pipeline, requested: nope"));
  CHECK_THAT(rpc.error("jobs.Push", pf::kCodecJson, R"({"job":{"id":"x","job":"record","options":{"pipeline":"nope"}}})"),
             Contains("no such pipeline, requested: nope"));
  CHECK_THAT(rpc.error("jobs.Push", pf::kCodecJson, R"({"job":{"id":"x","bogus":1}})"), Contains("rpc_push: json:"));
  CHECK_THAT(rpc.error("jobs.Pause", pf::kCodecProto, pipelines({"nope"}).SerializeAsString()),
             Contains("no such pipeline, requested: nope"));

  // A JSON push: proto3 JSON with the payload in base64 and headers as {"k":{"value":[...]}}.
  rpc.json("jobs.Push", {{"job",
                          {{"job", "record"},
                           {"id", "json-1"},
                           {"payload", "aGVsbG8gam9icw=="},
                           {"headers", {{"k", {{"value", {"v1", "v2"}}}}}},
                           {"options", {{"pipeline", "default"}, {"priority", 0}}}}}});
  auto lines = js.records.wait([&](const auto& l) { return !js.records.of(l, "json-1").empty(); }, 10s);
  REQUIRE(js.records.of(lines, "json-1").size() == 1);
  CHECK(js.records.of(lines, "json-1")[0]["payload"] == "hello jobs");
  CHECK(js.records.of(lines, "json-1")[0]["headers"] == nlohmann::json{{"k", {"v1", "v2"}}});

  // Declare (protobuf, every value a string as PHP sends it): consumed at once.
  jpb::DeclareRequest decl;
  (*decl.mutable_pipeline())["name"] = "dyn";
  (*decl.mutable_pipeline())["driver"] = "memory";
  (*decl.mutable_pipeline())["priority"] = "3";
  rpc.proto("jobs.Declare", decl);
  CHECK_THAT(rpc.error("jobs.Declare", pf::kCodecProto, decl.SerializeAsString()), Contains("pipeline already exists"));
  (*decl.mutable_pipeline())["name"] = "bad";
  (*decl.mutable_pipeline())["driver"] = "kafka";
  CHECK_THAT(rpc.error("jobs.Declare", pf::kCodecProto, decl.SerializeAsString()), Contains("\"kafka\" is not allowed"));
  jpb::Pipelines list;
  REQUIRE(list.ParseFromString(rpc.proto_empty("jobs.List")));
  CHECK(std::vector<std::string>(list.pipelines().begin(), list.pipelines().end()) == std::vector<std::string>{"default", "dyn"});
  CHECK(rpc.json("jobs.List", nullptr) == nlohmann::json{{"pipelines", {"default", "dyn"}}});

  rpc.proto("jobs.Push", push_req(make_job("dyn-1", "record", "dyn")));
  lines = js.records.wait([&](const auto& l) { return !js.records.of(l, "dyn-1").empty(); }, 10s);
  REQUIRE(js.records.of(lines, "dyn-1").size() == 1);
  CHECK(js.records.of(lines, "dyn-1")[0]["pipeline"] == "dyn");

  // Pause (JSON) holds jobs back; Stat shows them; Resume (JSON) lets them run.
  rpc.json("jobs.Pause", {{"pipelines", {"dyn"}}});
  rpc.proto("jobs.Push", push_req(make_job("dyn-2", "record", "dyn")));
  auto st = rpc.json("jobs.Stat", nullptr);
  nlohmann::json dyn;
  for (const auto& s : st["stats"]) {
    if (s["pipeline"] == "dyn") dyn = s;
  }
  INFO(st.dump());
  CHECK(dyn["driver"] == "memory");
  CHECK(dyn["ready"] == false);
  CHECK((dyn["active"] == "1" || dyn["active"] == 1));
  CHECK((dyn["priority"] == "3" || dyn["priority"] == 3));
  CHECK(dyn.contains("delayed"));
  CHECK(dyn.contains("reserved"));
  CHECK(js.records.of(js.records.read(), "dyn-2").empty());
  rpc.json("jobs.Resume", {{"pipelines", {"dyn"}}});
  lines = js.records.wait([&](const auto& l) { return !js.records.of(l, "dyn-2").empty(); }, 10s);
  CHECK(js.records.of(lines, "dyn-2").size() == 1);

  // informer.Jobs: the pipelines with RoadRunner's Go field names.
  const auto inf = rpc.json("informer.Jobs", "jobs");
  REQUIRE(inf.is_array());
  REQUIRE(inf.size() == 2);
  CHECK(inf[1]["Pipeline"] == "dyn");
  CHECK(inf[1]["Driver"] == "memory");
  CHECK(inf[1]["Ready"] == true);
  CHECK(inf[1].contains("Active"));
  CHECK(rpc.json("informer.Jobs", "http").is_null());

  // Destroy answers with the pipelines destroyed; they are gone afterwards.
  jpb::Pipelines destroyed;
  REQUIRE(destroyed.ParseFromString(rpc.proto("jobs.Destroy", pipelines({"dyn"}))));
  REQUIRE(destroyed.pipelines_size() == 1);
  CHECK(destroyed.pipelines(0) == "dyn");
  CHECK(rpc.json("jobs.List", nullptr) == nlohmann::json{{"pipelines", {"default"}}});
  CHECK_THAT(rpc.error("jobs.Push", pf::kCodecProto, push_req(make_job("x", "record", "dyn")).SerializeAsString()),
             Contains("no such pipeline, requested: dyn"));
}

TEST_CASE("jobs: the CLI lists, pauses, resumes and shows pipelines; workers and reset know the jobs pool",
          "[integration][jobs][cli]") {
  JobsServer js("  consume: [\"default\", \"other\"]\n"
                "  pipelines:\n"
                "    default:\n"
                "      driver: memory\n"
                "    other:\n"
                "      driver: memory\n"
                "      config:\n"
                "        priority: 7\n");
  const std::string cli = std::string(PIVOT_BINARY) + " ";
  const std::string at = " --rpc " + js.rpc();
  int st = -1;
  CHECK(run_command(cli + "jobs list" + at, &st) == "default\nother\n");
  CHECK(st == 0);
  std::string out = run_command(cli + "jobs" + at, &st);
  CHECK(st == 0);
  CHECK_THAT(out, Contains("PIPELINE") && Contains("DRIVER") && Contains("ACTIVE") && Contains("DELAYED") && Contains("RESERVED") &&
                      Contains("READY"));
  CHECK_THAT(out, Contains("| default  | memory |"));
  CHECK_THAT(out, Contains("|        7 |"));
  CHECK(run_command(cli + "jobs pause other" + at, &st) == "other: paused\n");
  CHECK(st == 0);
  auto j = nlohmann::json::parse(run_command(cli + "jobs stat other --json" + at, &st));
  CHECK(st == 0);
  REQUIRE(j["stats"].size() == 1);
  CHECK(j["stats"][0]["pipeline"] == "other");
  CHECK(j["stats"][0]["ready"] == false);
  CHECK(run_command(cli + "jobs resume other" + at, &st) == "other: resumed\n");
  j = nlohmann::json::parse(run_command(cli + "jobs stat other --json" + at, &st));
  CHECK(j["stats"][0]["ready"] == true);
  run_command(cli + "jobs pause nope" + at + " 2>&1", &st);
  CHECK(st != 0);
  CHECK_THAT(run_command(cli + "jobs stat nope" + at + " 2>&1", &st), Contains("no such pipeline: nope"));
  CHECK(st != 0);
  run_command(cli + "jobs pause" + at + " 2>/dev/null", &st);
  CHECK(st == 2);

  // The jobs pool is visible to `workers` and resettable with `reset`.
  j = nlohmann::json::parse(run_command(cli + "workers jobs --json" + at, &st));
  CHECK(st == 0);
  CHECK(j["jobs"]["workers"].size() == 2);
  CHECK_THAT(run_command(cli + "reset jobs" + at, &st), Contains("jobs: reset"));
  CHECK(st == 0);
  // Jobs still run after the reset.
  RpcConn rpc(js.rpc_port);
  rpc.proto("jobs.Push", push_req(make_job("after-reset", "record", "default")));
  const auto lines = js.records.wait([&](const auto& l) { return !js.records.of(l, "after-reset").empty(); }, 10s);
  CHECK(js.records.of(lines, "after-reset").size() == 1);
}

TEST_CASE("jobs: rr_jobs_* metrics count pushes, processed jobs and the jobs pool's workers", "[integration][jobs][metrics]") {
  const int metrics_port = free_port();
  JobsServer js("  consume: [\"default\"]\n"
                "  pipelines:\n"
                "    default:\n"
                "      driver: memory\n"
                "metrics:\n"
                "  address: 127.0.0.1:" + std::to_string(metrics_port) + "\n");
  RpcConn rpc(js.rpc_port);
  jpb::PushBatchRequest batch;
  *batch.add_jobs() = make_job("m1", "record", "default");
  *batch.add_jobs() = make_job("m2", "nack_drop", "default");
  rpc.proto("jobs.PushBatch", batch);
  rpc.proto("jobs.Push", push_req(make_job("m3", "record", "default")));
  js.records.wait([](const auto& l) { return l.size() >= 3; }, 10s);
  REQUIRE(js.server->wait_log("event=job_dropped pipeline=default id=\"m2\"", 10s));
  const Response r = request(metrics_port, "GET", "/metrics");
  REQUIRE(r.status == 200);
  CHECK_THAT(r.body, Contains("rr_jobs_push_ok 3"));
  CHECK_THAT(r.body, Contains("rr_jobs_push_err 0"));
  CHECK_THAT(r.body, Contains("rr_jobs_jobs_ok 2"));
  CHECK_THAT(r.body, Contains("rr_jobs_jobs_err 1"));
  CHECK_THAT(r.body, Contains("rr_jobs_requests_total{driver=\"memory\",job=\"default\",source=\"batch\"} 2"));
  CHECK_THAT(r.body, Contains("rr_jobs_requests_total{driver=\"memory\",job=\"default\",source=\"single\"} 1"));
  CHECK_THAT(r.body, Contains("rr_jobs_push_latency_count{driver=\"memory\",job=\"default\",source=\"single\"} 1"));
  CHECK_THAT(r.body, Contains("rr_jobs_total_workers 2"));
}
