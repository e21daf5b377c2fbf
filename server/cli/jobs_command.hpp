#pragma once

#include <nlohmann/json.hpp>

#include <ostream>
#include <string>
#include <vector>

namespace pivot::cli {

/// `pivot-server jobs [list|pause|resume|stat] [pipeline...] [--json] [-c FILE] [--rpc ADDR]`:
/// asks a running server (jobs.List / Pause / Resume / Stat over RPC, JSON codec). `stat` (the
/// default) prints a table of the pipelines, or only the named ones. Returns the exit code: 0 ok,
/// 1 no server, an RPC error or an unknown pipeline, 2 usage.
int jobs_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

/// A jobs.Stat reply (`{"stats":[...]}`, int64 fields as numbers or strings) as a table.
std::string format_jobs_table(const nlohmann::ordered_json& stats);

}  // namespace pivot::cli
