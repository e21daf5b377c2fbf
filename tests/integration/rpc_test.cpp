#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <set>
#include <stdexcept>

#include "protocol/frame.hpp"
#include "protocol/frame_decoder.hpp"
#include "protocol/rpc_frame.hpp"
#include "tests/integration/config_template.hpp"
#include "tests/integration/harness.hpp"
#include "tests/integration/rpc_client.hpp"

using namespace pivot::test;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;
namespace pf = pivot::protocol::flags;

namespace {

/// The shared raw RPC client; calls here choose their own sequence numbers.
class RpcConn : public RpcClient {
 public:
  using RpcClient::RpcClient;

  /// One JSON call; returns the reply after checking its seq.
  pivot::protocol::RpcMessage call(const std::string& method, const std::string& json_body, std::uint32_t seq = 1) {
    send(seq, method, pf::kCodecJson, json_body);
    auto m = read(10s);
    CHECK(m.seq == seq);
    CHECK(m.method == method);
    return m;
  }
};

std::string rpc_section(const std::string& listen) { return "rpc:\n  listen: " + listen + "\n"; }

std::set<long> live_pids(const ServerProcess& s) {
  std::set<long> out;
  for (pid_t p : s.children()) out.insert(p);
  return out;
}

std::set<long> informer_pids(const nlohmann::json& reply) {
  std::set<long> out;
  for (const auto& w : reply["workers"]) out.insert(w["pid"].get<long>());
  return out;
}

/// The local IPv4 addresses (as /proc/net/tcp hex) with a LISTEN socket on `port`, plus "v6"
/// for each IPv6 listener on it.
std::vector<std::string> listening_ipv4_hosts(int port) {
  char port_hex[8];
  std::snprintf(port_hex, sizeof port_hex, "%04X", port);
  std::vector<std::string> out;
  for (const char* file : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream ls(line);
      std::string slot, local, remote, state;
      ls >> slot >> local >> remote >> state;
      const auto colon = local.rfind(':');
      if (state != "0A" || local.substr(colon + 1) != port_hex) continue;
      out.push_back(std::string(file).back() == '6' ? "v6" : local.substr(0, colon));
    }
  }
  return out;
}

std::string base64_decode(const std::string& in) {
  static const std::string kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    const auto v = kAlphabet.find(c);
    if (v == std::string::npos) throw std::runtime_error("bad base64");
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

}  // namespace

TEST_CASE("rpc: informer.List and informer.Workers report the live workers", "[integration][rpc]") {
  const int rpc_port = free_port();
  ServerProcess s(config_yaml(2, "", "app.php", rpc_section("tcp://127.0.0.1:" + std::to_string(rpc_port))));
  REQUIRE(s.wait_log("event=worker_ready", 10s, 2));
  CHECK(s.wait_log("event=rpc_listening address=tcp://127.0.0.1:" + std::to_string(rpc_port), 1s));
  REQUIRE(request(s.port(), "GET", "/").status == 200);  // one exec to count

  RpcConn c(rpc_port);
  const auto list = c.call("informer.List", "true", 1);
  CHECK(list.flags == pf::kCodecJson);
  CHECK(list.body == R"(["http"])");

  const auto workers = c.call("informer.Workers", R"("http")", 2);
  CHECK(workers.flags == pf::kCodecJson);
  CHECK_THAT(workers.body, Catch::Matchers::StartsWith(R"({"workers":[{"pid":)"));
  const auto j = nlohmann::json::parse(workers.body);
  REQUIRE(j["workers"].size() == 2);
  CHECK(informer_pids(j) == live_pids(s));
  std::uint64_t execs = 0;
  for (const auto& w : j["workers"]) {
    // Exactly RoadRunner's process.State keys, in its order (protocol doc §5.5).
    CHECK(w.size() == 8);
    for (const char* k : {"pid", "status", "numExecs", "created", "memoryUsage", "CPUPercent", "command", "statusStr"}) {
      CHECK(w.contains(k));
    }
    CHECK(w["statusStr"] == "ready");
    CHECK_THAT(w["command"].get<std::string>(), Contains("php ") && Contains("app.php"));
    CHECK(w["memoryUsage"].get<std::uint64_t>() > 1'000'000);
    const auto now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    CHECK(w["created"].get<std::int64_t>() > now_ns - 120'000'000'000LL);
    CHECK(w["created"].get<std::int64_t>() <= now_ns);
    execs += w["numExecs"].get<std::uint64_t>();
  }
  CHECK(execs == 1);
  const std::string order = workers.body.substr(0, workers.body.find('}'));
  CHECK(order.find("\"pid\"") < order.find("\"status\""));
  CHECK(order.find("\"status\"") < order.find("\"numExecs\""));
  CHECK(order.find("\"CPUPercent\"") < order.find("\"command\""));
  CHECK(order.find("\"command\"") < order.find("\"statusStr\""));

  CHECK(c.call("informer.Workers", R"("jobs")", 3).body == R"({"workers":null})");
}

TEST_CASE("rpc: lookup errors carry Go's texts and keep the connection", "[integration][rpc]") {
  const int rpc_port = free_port();
  ServerProcess s(config_yaml(1, "", "app.php", rpc_section("tcp://127.0.0.1:" + std::to_string(rpc_port))));
  RpcConn c(rpc_port);
  struct Case {
    std::string method, text;
  };
  std::uint32_t seq = 10;
  for (const Case& k : {Case{"nosuch.Method", "rpc: can't find service nosuch.Method"},
                        Case{"informer.Nope", "rpc: can't find method informer.Nope"},
                        Case{"nodot", "rpc: service/method request ill-formed: nodot"}}) {
    const auto m = c.call(k.method, "true", ++seq);
    CHECK(m.is_error());
    CHECK(m.flags == (pf::kCodecJson | pf::kError));
    CHECK(m.body == k.text);
  }
  CHECK(c.call("resetter.Reset", R"("nosuch")", ++seq).body == "no such plugin: nosuch");
  // Still serving on the same connection.
  const auto ok = c.call("informer.List", "true", ++seq);
  CHECK_FALSE(ok.is_error());
  CHECK(ok.body == R"(["http"])");
}

TEST_CASE("rpc: a corrupt frame closes only that connection", "[integration][rpc]") {
  const int rpc_port = free_port();
  ServerProcess s(config_yaml(1, "", "app.php", rpc_section("tcp://127.0.0.1:" + std::to_string(rpc_port))));
  RpcConn good(rpc_port);
  RpcConn bad(rpc_port);
  CHECK(good.call("informer.List", "true", 1).body == R"(["http"])");

  SECTION("CRC mismatch") {
    std::string frame = pivot::protocol::encode_rpc_frame(1, "informer.List", pf::kCodecJson, "true");
    frame[6] = static_cast<char>(frame[6] ^ 0x5A);
    bad.send_raw(frame);
    CHECK(bad.closed_by_peer(3s));
    CHECK(s.wait_log("event=rpc_bad_frame", 2s));
    CHECK_THAT(s.log(), Contains("CRC"));
  }
  SECTION("one option instead of two") {
    std::string frame;
    const std::uint32_t opt = 13;
    pivot::protocol::append_frame(frame, pf::kCodecJson, std::span<const std::uint32_t>(&opt, 1), "informer.Listtrue");
    bad.send_raw(frame);
    CHECK(bad.closed_by_peer(3s));
    CHECK(s.wait_log("event=rpc_bad_frame", 2s));
    CHECK_THAT(s.log(), Contains("exactly 2 options"));
  }
  SECTION("method length beyond the payload") {
    std::string frame;
    const std::uint32_t opts[2] = {1, 500};
    pivot::protocol::append_frame(frame, pf::kCodecJson, opts, "informer.List");
    bad.send_raw(frame);
    CHECK(bad.closed_by_peer(3s));
    CHECK(s.wait_log("event=rpc_bad_frame", 2s));
  }
  // The other, already-connected client is unaffected, and new clients are accepted.
  CHECK(good.call("informer.List", "true", 2).body == R"(["http"])");
  RpcConn fresh(rpc_port);
  CHECK(fresh.call("informer.List", "true", 1).body == R"(["http"])");
  CHECK(request(s.port(), "GET", "/").status == 200);
}

TEST_CASE("rpc: pipelined requests on one connection each get their seq", "[integration][rpc]") {
  const int rpc_port = free_port();
  ServerProcess s(config_yaml(1, "", "app.php", rpc_section("tcp://127.0.0.1:" + std::to_string(rpc_port))));
  RpcConn c(rpc_port);
  c.send_raw(pivot::protocol::encode_rpc_frame(41, "informer.List", pf::kCodecJson, "true") +
             pivot::protocol::encode_rpc_frame(42, "informer.Workers", pf::kCodecJson, R"("http")") +
             pivot::protocol::encode_rpc_frame(43, "nosuch.X", pf::kCodecJson, ""));
  std::map<std::uint32_t, pivot::protocol::RpcMessage> replies;
  for (int i = 0; i < 3; ++i) {
    auto m = c.read();
    replies[m.seq] = m;
  }
  REQUIRE(replies.size() == 3);
  CHECK(replies[41].body == R"(["http"])");
  CHECK(replies[42].method == "informer.Workers");
  CHECK(informer_pids(nlohmann::json::parse(replies[42].body)) == live_pids(s));
  CHECK(replies[43].is_error());
}

TEST_CASE("rpc: gob arguments as rr workers sends them get JSON replies", "[integration][rpc]") {
  const int rpc_port = free_port();
  ServerProcess s(config_yaml(1, "", "app.php", rpc_section("tcp://127.0.0.1:" + std::to_string(rpc_port))));
  RpcConn c(rpc_port);
  // Go net/rpc seq starts at 0; gob bool true and gob string "http" (protocol doc §5.8).
  c.send(0, "informer.List", pf::kCodecGob, std::string("\x03\x02\x00\x01", 4));
  auto list = c.read();
  CHECK(list.seq == 0);
  CHECK(list.flags == pf::kCodecJson);
  CHECK(list.body == R"(["http"])");
  c.send(1, "informer.Workers", 0x00, std::string("\x07\x0c\x00\x04", 4) + "http");
  auto w = c.read();
  CHECK(w.flags == pf::kCodecJson);
  CHECK(informer_pids(nlohmann::json::parse(w.body)) == live_pids(s));
  c.send(2, "informer.Jobs", pf::kCodecGob, std::string("\x07\x0c\x00\x04", 4) + "http");
  CHECK(c.read().body == "null");
}

TEST_CASE("rpc: rpc.Version and rpc.Config", "[integration][rpc]") {
  const int rpc_port = free_port();
  ServerProcess s(config_yaml(1, "", "app.php", rpc_section("tcp://127.0.0.1:" + std::to_string(rpc_port))));
  RpcConn c(rpc_port);
  CHECK(nlohmann::json::parse(c.call("rpc.Version", "true", 1).body).get<std::string>() ==
        run_command(std::string(PIVOT_BINARY) + " --version | cut -d' ' -f2 | tr -d '\\n'"));

  // Raw codec: the JSON bytes as they are.
  c.send(2, "rpc.Config", pf::kCodecRaw, "");
  const auto raw = c.read();
  CHECK(raw.flags == pf::kCodecRaw);
  const auto cfg = nlohmann::json::parse(raw.body);
  CHECK(cfg["http"]["address"] == "127.0.0.1:" + std::to_string(s.port()));
  CHECK(cfg["http"]["pool"]["num_workers"] == 1);  // typed like YAML, not a string
  CHECK(cfg["server"]["env"]["APP_GREETING"] == "hello-env");
  CHECK(cfg["rpc"]["listen"] == "tcp://127.0.0.1:" + std::to_string(rpc_port));

  // JSON codec: Go's []byte, a base64 string of the same bytes.
  const auto json = c.call("rpc.Config", "true", 3);
  CHECK(base64_decode(nlohmann::json::parse(json.body).get<std::string>()) == raw.body);
}

TEST_CASE("rpc: unix:// listen, stale socket file removed, file removed at stop", "[integration][rpc]") {
  char tmpl[] = "/tmp/pivot-rpc-XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  const std::string path = dir + "/rpc.sock";
  {
    // A socket file left over from a crash: bound, never unlinked, nobody listening.
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    ::close(fd);
  }
  {
    ServerProcess s(config_yaml(1, "", "app.php", rpc_section("unix://" + path)));
    CHECK(s.wait_log("event=rpc_stale_socket_removed", 1s));
    RpcConn c(path);
    CHECK(c.call("informer.List", "true", 1).body == R"(["http"])");
    CHECK(informer_pids(nlohmann::json::parse(c.call("informer.Workers", R"("http")", 2).body)) == live_pids(s));
    const auto env = nlohmann::json::parse(request(s.port(), "GET", "/env").body);
    CHECK(env["RR_RPC"] == "unix://" + path);
    CHECK(s.stop(SIGTERM, 15s) == 0);
  }
  struct stat st {};
  CHECK(::stat(path.c_str(), &st) != 0);  // unlinked at stop
  ::rmdir(dir.c_str());
}

TEST_CASE("rpc: workers get RR_RPC; an empty tcp host means loopback", "[integration][rpc]") {
  const int rpc_port = free_port();
  ServerProcess s(config_yaml(1, "", "app.php", rpc_section("tcp://:" + std::to_string(rpc_port))));
  const std::string expected = "tcp://127.0.0.1:" + std::to_string(rpc_port);
  CHECK(s.wait_log("event=rpc_listening address=" + expected, 1s));
  const auto env = nlohmann::json::parse(request(s.port(), "GET", "/env").body);
  CHECK(env["RR_RPC"] == expected);
  // Bound to 127.0.0.1 only, not to every interface.
  CHECK(listening_ipv4_hosts(rpc_port) == std::vector<std::string>{"0100007F"});  // 127.0.0.1, little-endian hex
  RpcConn c(rpc_port);
  CHECK(c.call("informer.List", "true").body == R"(["http"])");
}

TEST_CASE("rpc: without an rpc section nothing listens and RR_RPC is unset", "[integration][rpc]") {
  ServerProcess s(config_yaml(1));
  const auto env = nlohmann::json::parse(request(s.port(), "GET", "/env").body);
  CHECK(env["RR_RPC"] == false);  // getenv() of an unset variable
  CHECK_THAT(s.log(), !Contains("event=rpc_listening"));
}

TEST_CASE("PHP code in a worker calls the server over RR_RPC with php-worker's Rpc\\Client", "[integration][rpc]") {
  const int rpc_port = free_port();
  ServerProcess s(config_yaml(2, "", "app.php", rpc_section("tcp://127.0.0.1:" + std::to_string(rpc_port))));
  REQUIRE(s.wait_log("event=worker_ready", 10s, 2));
  const Response r = request(s.port(), "GET", "/rpc");
  REQUIRE(r.status == 200);
  const auto j = nlohmann::json::parse(r.body);
  std::set<long> from_php;
  for (const auto& p : j["pids"]) from_php.insert(p.get<long>());
  std::set<long> kids;
  for (pid_t p : s.children()) kids.insert(p);
  CHECK(from_php == kids);
  CHECK(j["plugins"] == nlohmann::json::array({"http"}));
  CHECK(j["error"] == "rpc: can't find service nosuch.Method");
}
