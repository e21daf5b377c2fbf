#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace pivot::cli {

/// `pivot-server workers [plugin...] [-i] [--json] [-c FILE] [--rpc ADDR]`: asks a running
/// server (informer.List / informer.Workers over RPC) and prints a table per plugin, like
/// RoadRunner's `rr workers`. Returns the exit code: 0 ok, 1 no server or an RPC error, 2 usage.
int workers_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

/// One plugin's informer.Workers reply as a table; `now_unix_ns` dates the Created column.
std::string format_workers_table(const std::string& plugin, const nlohmann::ordered_json& reply, std::int64_t now_unix_ns);

/// Bytes the way go-humanize prints them (SI units): "512 B", "8.4 MB", "21 MB".
std::string human_bytes(std::uint64_t bytes);

/// A whole number of seconds the way Go prints a Duration: "45s", "1m5s", "2h0m3s".
std::string human_age(std::int64_t seconds);

}  // namespace pivot::cli
