#include "server/cli/cli_support.hpp"

#include <algorithm>
#include <stdexcept>

#include "server/cli/rpc_client.hpp"
#include "server/config/config_error.hpp"

namespace pivot::cli {

std::string RpcTarget::address() const { return resolve_rpc_address(rpc, config, config_given); }

bool take_rpc_option(const std::vector<std::string>& args, std::size_t& i, RpcTarget& target, std::string& error) {
  const std::string& a = args[i];
  if (a != "-c" && a != "--config" && a != "--rpc") return false;
  if (i + 1 >= args.size()) {
    error = a + " needs a value";
    return true;
  }
  if (a == "--rpc") {
    target.rpc = args[++i];
  } else {
    target.config = args[++i];
    target.config_given = true;
  }
  return true;
}

int run_rpc_command(std::ostream& err, const std::function<int()>& body) {
  try {
    return body();
  } catch (const config::ConfigError& e) {
    err << "pivot-server: " << e.what() << "\n";
    return 2;
  } catch (const std::invalid_argument& e) {
    err << "pivot-server: " << e.what() << kUsageHint;
    return 2;
  } catch (const RpcCallFailed& e) {
    err << "pivot-server: the server answered with an error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {  // RpcUnreachable and malformed replies
    err << "pivot-server: " << e.what() << "\n";
    return 1;
  }
}

std::string box_table(const std::vector<std::string>& head, const std::vector<std::vector<std::string>>& rows,
                      const std::vector<bool>& right, bool center_head) {
  std::vector<std::size_t> width(head.size());
  for (std::size_t c = 0; c < head.size(); ++c) {
    width[c] = head[c].size();
    for (const auto& r : rows) width[c] = std::max(width[c], r[c].size());
  }
  std::string rule = "+";
  for (auto w : width) rule += std::string(w + 2, '-') + "+";
  rule += "\n";
  std::string out = rule + "|";
  for (std::size_t c = 0; c < head.size(); ++c) {
    const std::size_t pad = width[c] - head[c].size();
    const std::size_t before = center_head ? pad / 2 : 0;
    out += " " + std::string(before, ' ') + head[c] + std::string(pad - before, ' ') + " |";
  }
  out += "\n" + rule;
  for (const auto& r : rows) {
    out += "|";
    for (std::size_t c = 0; c < r.size(); ++c) {
      const std::string pad(width[c] - r[c].size(), ' ');
      out += " " + (right[c] ? pad + r[c] : r[c] + pad) + " |";
    }
    out += "\n";
  }
  if (!rows.empty()) out += rule;
  return out;
}

}  // namespace pivot::cli
