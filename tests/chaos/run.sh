#!/usr/bin/env bash
# The chaos suite (`make chaos`): runs every scenario against the real pivot-server and real PHP
# workers, each printing its figures; exits 1 when any scenario broke a bound.
#   kill_workers   SIGKILL a random worker every 100 ms under wrk load
#   misbehave      workers printing garbage, leaking past max_worker_memory, deadlocking (exec_ttl)
#   slowloris      1,000 slowloris connections while normal clients keep p99 < 10 ms
#   rolling_reset  `pivot-server reset` every 2 s under wrk load: zero failed requests
# Env: CHAOS_SECONDS (length of each scenario, default 30; CI uses 10), CHAOS_ONLY (scenario names,
#      space-separated, default all), PIVOT_BIN (default <repo>/build/pivot-server), KEEP_TMP=1.
set -uo pipefail
DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SCENARIOS=${CHAOS_ONLY:-kill_workers misbehave slowloris rolling_reset}

failed=()
for s in $SCENARIOS; do
    [[ -x $DIR/$s.sh ]] || { echo "chaos: no scenario named $s" >&2; exit 2; }
    echo "== chaos: $s (${CHAOS_SECONDS:-30}s)"
    "$DIR/$s.sh" || failed+=("$s")
done
if ((${#failed[@]})); then
    echo "== chaos: FAILED: ${failed[*]}"
    exit 1
fi
echo "== chaos: all scenarios passed"
