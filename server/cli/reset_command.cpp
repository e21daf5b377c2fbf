#include "server/cli/reset_command.hpp"

#include <chrono>

#include "server/cli/cli_support.hpp"
#include "server/cli/rpc_client.hpp"

namespace pivot::cli {
namespace {

/// The server bounds a reset by the pool's reset_timeout; this only guards against a hung server.
constexpr std::chrono::minutes kResetTimeout{10};

}  // namespace

int reset_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  std::vector<std::string> plugins;
  RpcTarget target;
  std::string error;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (take_rpc_option(args, i, target, error)) {
      if (!error.empty()) {
        err << "pivot-server: " << error << kUsageHint;
        return 2;
      }
    } else if (!a.empty() && a[0] == '-') {
      err << "pivot-server: unknown option \"" << a << "\" for reset" << kUsageHint;
      return 2;
    } else {
      plugins.push_back(a);
    }
  }
  return run_rpc_command(err, [&]() -> int {
    RpcClient client(target.address());
    if (plugins.empty()) plugins = client.call("resetter.List", true).get<std::vector<std::string>>();
    int failed = 0;
    for (const auto& p : plugins) {
      // The count is informational: how many workers the rolling reset replaces.
      std::size_t before = 0;
      bool counted = false;
      try {
        const auto w = client.call("informer.Workers", p);
        if (w.contains("workers") && w["workers"].is_array()) {
          before = w["workers"].size();
          counted = true;
        }
      } catch (const RpcCallFailed&) {
      }
      try {
        client.call("resetter.Reset", p, kResetTimeout);
        out << p << ": reset";
        if (counted) out << " (" << before << (before == 1 ? " worker" : " workers") << " replaced)";
        out << "\n" << std::flush;
      } catch (const RpcCallFailed& e) {
        out << p << ": FAILED: " << e.what() << "\n" << std::flush;
        ++failed;
      }
    }
    return failed ? 1 : 0;
  });
}

}  // namespace pivot::cli
