#pragma once

#include <functional>
#include <ostream>
#include <string>
#include <vector>

namespace pivot::cli {

/// The line every usage error ends with.
inline constexpr const char* kUsageHint = "\nRun 'pivot-server --help' for usage.\n";

/// Where an RPC subcommand finds the server: --rpc ADDR, else rpc.listen of -c FILE.
struct RpcTarget {
  std::string config = ".pivot.yaml";  ///< -c / --config
  bool config_given = false;           ///< -c was given (then the file must load)
  std::string rpc;                     ///< --rpc
  /// resolve_rpc_address() of these. Control path: throws config::ConfigError.
  std::string address() const;
};

/// True when `args[i]` is -c, --config or --rpc: its value goes into `target` and `i` moves past
/// it, or `error` says the value is missing. False (nothing changed) for any other argument.
bool take_rpc_option(const std::vector<std::string>& args, std::size_t& i, RpcTarget& target, std::string& error);

/// Runs the body of an RPC subcommand and turns its control-path exceptions into one line on
/// `err` and the exit code: config::ConfigError and std::invalid_argument (usage) 2,
/// RpcCallFailed ("the server answered with an error: …") and anything else (RpcUnreachable,
/// malformed replies) 1. Returns the body's own code otherwise.
int run_rpc_command(std::ostream& err, const std::function<int()>& body);

/// A boxed text table as the RoadRunner CLI prints it: `right[c]` right-aligns column c,
/// `center_head` centres the header cells. The closing rule is printed only under rows.
std::string box_table(const std::vector<std::string>& head, const std::vector<std::vector<std::string>>& rows,
                      const std::vector<bool>& right, bool center_head);

}  // namespace pivot::cli
