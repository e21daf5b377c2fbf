#!/usr/bin/env bash
# Chaos 4: a rolling reset every 2 s (`pivot-server reset` against the rpc endpoint, as an operator
# would run it) under wrk load (hello world, 4 workers).
# Bounds: failed requests 0 (non-2xx responses and socket errors both 0); every reset command
# succeeded; after the run the pool has 4 ready workers, none of them an original one.
# Env: CHAOS_SECONDS (default 30), CONNECTIONS (default 16).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SECONDS_RUN=${CHAOS_SECONDS:-30}
CONNECTIONS=${CONNECTIONS:-16}
require_tools

RPC_PORT=$(free_port)
start_server 'version: "3"
server:
  command: "php {{ROOT}}/examples/hello/worker.php"
http:
  address: 127.0.0.1:{{PORT}}
  pool:
    num_workers: 4
rpc:
  listen: tcp://127.0.0.1:'"$RPC_PORT"'
logs:
  level: info'
wait_workers 4 || die "4 workers did not become ready"
initial_pids=" $(worker_pids | tr '\n' ' ') "

log "wrk -c$CONNECTIONS for ${SECONDS_RUN}s, pivot-server reset every 2 s"
wrk -t1 "-c$CONNECTIONS" "-d${SECONDS_RUN}s" --timeout 5s --latency -s "$ROOT/tests/chaos/status_count.lua" \
    "$URL/" >"$TMP/wrk.txt" 2>&1 &
WRK_PID=$!

resets=0 reset_failed=0 reset_ms_max=0
next=${EPOCHREALTIME/./}
while :; do
    next=$((next + 2000000))
    while ((${EPOCHREALTIME/./} < next)) && kill -0 "$WRK_PID" 2>/dev/null; do sleep 0.05; done
    kill -0 "$WRK_PID" 2>/dev/null || break
    t0=${EPOCHREALTIME/./}
    if "$PIVOT_BIN" reset -c "$TMP/.pivot.yaml" >>"$TMP/reset.out" 2>&1; then
        resets=$((resets + 1))
    else
        reset_failed=$((reset_failed + 1))
    fi
    ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
    ((ms > reset_ms_max)) && reset_ms_max=$ms
done
wait "$WRK_PID" || die "wrk failed: $(cat "$TMP/wrk.txt")"
out=$(cat "$TMP/wrk.txt")
kill -0 "$SERVER_PID" 2>/dev/null || die "pivot-server died"

read -r rps p50 p99 requests non2xx serr <<<"$(parse_wrk <<<"$out")" || die "could not parse wrk output: $out"
wait_workers 4 && ready_after=4 || ready_after=$(worker_pids | wc -l)
originals_left=0
for p in $(worker_pids); do [[ $initial_pids == *" $p "* ]] && originals_left=$((originals_left + 1)); done

figure duration_s "$SECONDS_RUN"
figure requests "$requests"
figure rps "$rps"
figure p99_ms "$p99"
figure reset_ms_max "$reset_ms_max"
figure pool_reset_done_log_lines "$(grep -c 'event=pool_reset_done' "$TMP/server.log" || true)"
check resets "$resets" ">=" $((SECONDS_RUN / 2 - 2 > 1 ? SECONDS_RUN / 2 - 2 : 1))
check resets_failed "$reset_failed" "==" 0
check non_2xx "$non2xx" "==" 0
check socket_errors "$serr" "==" 0
check workers_ready_after "$ready_after" "==" 4
check original_workers_left "$originals_left" "==" 0
finish
