#!/usr/bin/env bash
# The dependency rules of docs/architecture.md, checked with grep.
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0
if grep -rnE '#include [<"](asio|spdlog|server/|yaml-cpp|llhttp)' protocol/; then
  echo "layering: protocol/ must stay pure (no asio, spdlog, yaml-cpp, llhttp or server/ includes)" >&2; fail=1
fi
if grep -rln 'yaml-cpp/' server/ tests/ | grep -v '^server/config/'; then
  echo "layering: only server/config/ may include yaml-cpp" >&2; fail=1
fi
if grep -rlE '#include [<"]llhttp.h' server/ | grep -v '^server/http/request_parser.cpp$'; then
  echo "layering: only server/http/request_parser.cpp may include llhttp.h" >&2; fail=1
fi
if grep -rn 'std::mutex' server/pool server/worker; then
  echo "layering: no mutexes in pool/ or worker/ (state lives on the pool strand)" >&2; fail=1
fi
[ $fail -eq 0 ] && echo "layering: ok"
exit $fail
