#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace pivot::cli {

/// `pivot-server reset [plugin...] [-c FILE] [--rpc ADDR]`: rolling restart of each plugin's
/// workers through RPC (resetter.List, resetter.Reset), one line per plugin. Returns the exit
/// code: 0 when every reset succeeded, 1 when one failed or no server answers, 2 on usage errors.
int reset_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace pivot::cli
