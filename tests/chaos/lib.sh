# Shared helpers for tests/chaos/*.sh and tests/soak/soak.sh (sourced, not run).
# Each scenario starts the real build/pivot-server with real php workers in a temp dir, drives it
# with wrk and curl, prints its figures as `name=value` lines and exits 1 when a bound is broken.
# Env: PIVOT_BIN (default <repo>/build/pivot-server), KEEP_TMP=1 keeps the temp dir (logs).

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PIVOT_BIN=${PIVOT_BIN:-$ROOT/build/pivot-server}
SCENARIO=${SCENARIO:-$(basename "$0" .sh)}
TMP=$(mktemp -d "/tmp/pivot-chaos-$SCENARIO.XXXXXX")
STARTED=() # root pids of everything started here and not stopped yet
FAILED=0

log() { printf '[%s] %s\n' "$SCENARIO" "$*" >&2; }
die() { printf '[%s] error: %s\n' "$SCENARIO" "$*" >&2; exit 1; }
figure() { printf '%s: %s=%s\n' "$SCENARIO" "$1" "$2"; }

# check NAME VALUE OP BOUND: prints the figure and its bound; a broken bound marks the run failed.
check() {
    local name=$1 value=$2 op=$3 bound=$4 ok
    ok=$(awk -v v="$value" -v b="$bound" -v op="$op" 'BEGIN {
        if (op == "<=") r = v <= b; else if (op == "<") r = v < b; else if (op == "==") r = v == b;
        else if (op == ">=") r = v >= b; else r = 0; print r }')
    if [[ $ok == 1 ]]; then
        printf '%s: %s=%s (bound %s %s) ok\n' "$SCENARIO" "$name" "$value" "$op" "$bound"
    else
        printf '%s: %s=%s (bound %s %s) FAILED\n' "$SCENARIO" "$name" "$value" "$op" "$bound"
        FAILED=1
    fi
}

# Every pid of the process trees rooted at the given pids (roots included).
tree_pids() {
    ps -e -o pid=,ppid= | awk -v roots="$*" '
        BEGIN { n = split(roots, r, " "); for (i = 1; i <= n; i++) root[r[i]] = 1 }
        { parent[$1] = $2; if ($1 in root) want[$1] = 1 }
        END {
            do {
                changed = 0
                for (p in parent) if (!(p in want) && (parent[p] in want)) { want[p] = 1; changed = 1 }
            } while (changed)
            for (p in want) print p
        }'
}

# SIGTERM to the root (graceful), SIGKILL to whatever of its tree is left after 10 s.
stop_tree() {
    local root=$1 pids i p keep=() s
    pids=$(tree_pids "$root")
    kill -TERM "$root" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        kill -0 "$root" 2>/dev/null || break
        sleep 0.1
    done
    for p in $pids; do kill -KILL "$p" 2>/dev/null || true; done
    { wait "$root"; } 2>/dev/null || true
    for s in "${STARTED[@]}"; do [[ $s == "$root" ]] || keep+=("$s"); done
    STARTED=("${keep[@]}")
}

cleanup() {
    local rc=$? p
    trap - EXIT INT TERM
    for p in "${STARTED[@]}"; do stop_tree "$p"; done
    if ((rc != 0)) && [[ -s $TMP/server.log ]]; then
        log "--- last lines of the server log"
        tail -n 15 "$TMP/server.log" >&2
    fi
    if [[ ${KEEP_TMP:-0} == 1 ]]; then log "kept $TMP"; else rm -rf "$TMP"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

require_tools() {
    local cmd
    for cmd in wrk curl php ss "$@"; do command -v "$cmd" >/dev/null || die "$cmd not found (scripts/setup.sh installs it)"; done
    [[ -x $PIVOT_BIN ]] || die "pivot-server binary not found at $PIVOT_BIN (build it, or set PIVOT_BIN)"
}

free_port() {
    php -r '$s = stream_socket_server("tcp://127.0.0.1:0", $e, $m) or exit(1);
            $n = stream_socket_get_name($s, false); echo substr($n, strrpos($n, ":") + 1), "\n";'
}

# start_server CONFIG_TEXT [extra serve args...]: writes $TMP/.pivot.yaml ({{PORT}} and {{ROOT}}
# replaced), starts the server with -w $TMP and waits until it answers. Sets SERVER_PID, PORT, URL.
start_server() {
    local text=$1
    shift
    PORT=$(free_port)
    text=${text//\{\{PORT\}\}/$PORT}
    text=${text//\{\{ROOT\}\}/$ROOT}
    printf '%s\n' "$text" >"$TMP/.pivot.yaml"
    "$PIVOT_BIN" serve -w "$TMP" -c "$TMP/.pivot.yaml" "$@" >"$TMP/server.log" 2>&1 &
    SERVER_PID=$!
    STARTED+=("$SERVER_PID")
    URL=http://127.0.0.1:$PORT
    local i
    for ((i = 0; i < 300; i++)); do
        curl -fsS -o /dev/null --max-time 1 "$URL/" 2>/dev/null && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || die "pivot-server exited during startup"
        sleep 0.1
    done
    die "pivot-server did not answer on $URL"
}

# The server's direct children (the PHP workers), one pid per line.
worker_pids() { ps -o pid= --ppid "$SERVER_PID" | tr -d ' '; }

# Waits until the server has exactly N children whose worker_ready line is in the log.
wait_workers() {
    local n=$1 timeout=${2:-20} i p ready
    for ((i = 0; i < timeout * 10; i++)); do
        ready=0
        for p in $(worker_pids); do grep -q "event=worker_ready pool=http pid=$p " "$TMP/server.log" && ready=$((ready + 1)); done
        ((ready == n)) && (($(worker_pids | wc -l) == n)) && return 0
        sleep 0.1
    done
    return 1
}

# TCP connections on the server's HTTP port that the server process still holds, in any state
# but listening (established, close-wait, ...): a peer that went away while the server kept its
# socket shows up here as close-wait.
server_connections() {
    ss -Htnp state connected "( sport = :$PORT )" | grep -c "pid=$SERVER_PID," || true
}

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
fd_count() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }

# Prints "rps p50_ms p99_ms requests non2xx socket_errors" from wrk --latency output on stdin
# (the same parser as bench/run.sh).
parse_wrk() {
    awk '
        function ms(v) {
            if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
            if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
            if (v ~ /s$/)  return substr(v, 1, length(v) - 1) * 1000
            if (v ~ /m$/)  return substr(v, 1, length(v) - 1) * 60000
            return v + 0
        }
        $1 == "50%" { p50 = ms($2) }
        $1 == "99%" { p99 = ms($2) }
        /^Requests\/sec:/ { rps = $2 }
        / requests in / { n = $1 }
        /Non-2xx or 3xx responses:/ { bad = $NF }
        /Socket errors:/ { gsub(/,/, ""); serr = $4 + $6 + $8 + $10 }
        END {
            if (rps == "" || n == "" || p50 == "" || p99 == "") exit 1
            printf "%s %.3f %.3f %d %d %d\n", rps, p50, p99, n, bad + 0, serr + 0
        }'
}

# The socket error line of wrk's output, or "none".
socket_errors_line() { grep -m1 'Socket errors:' <<<"$1" || echo none; }

finish() {
    if ((FAILED)); then
        log "FAILED (logs: rerun with KEEP_TMP=1)"
        exit 1
    fi
    log "passed"
}
