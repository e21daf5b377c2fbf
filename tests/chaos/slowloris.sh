#!/usr/bin/env bash
# Chaos 3: 1,000 slowloris connections (tests/chaos/slowloris.php: a request head that never ends,
# one byte every few seconds; every connection the server closes is replaced at once) while
# normal clients (wrk, 4 connections, hello world, 4 workers) keep being served.
# Bounds: normal clients' p99 < 10 ms, no socket error, all 2xx; every slowloris connection the
# server closed got its 408 (closed without one: 0) and at least COUNT were closed with 408
# (read_header_timeout works against all of them); the server is up and answers a new request.
# Env: CHAOS_SECONDS (default 30; read_header_timeout is 10s from 25 s up, else max(5s, a third)),
#      SLOWLORIS (connections, default 1000), CONNECTIONS (wrk connections, default 4), PACE_MS
#      (each wrk connection pauses this long between requests, default 1: normal clients, not a
#      benchmark that saturates the CPU; 0 = back to back), HEADER_TIMEOUT (seconds, overrides).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SECONDS_RUN=${CHAOS_SECONDS:-30}
COUNT=${SLOWLORIS:-1000}
CONNECTIONS=${CONNECTIONS:-4}
PACE_MS=${PACE_MS:-1}
require_tools
if [[ -n ${HEADER_TIMEOUT:-} ]]; then :; elif ((SECONDS_RUN >= 25)); then HEADER_TIMEOUT=10; else HEADER_TIMEOUT=$((SECONDS_RUN / 3 > 5 ? SECONDS_RUN / 3 : 5)); fi
INTERVAL=$(awk -v t="$HEADER_TIMEOUT" 'BEGIN { i = t / 5; printf "%.1f", i < 1 ? 1 : i }')

# The server holds COUNT client sockets plus its own; the client as many again.
need=$((COUNT * 2 + 256))
(($(ulimit -n) >= need)) || ulimit -n "$need" 2>/dev/null || die "ulimit -n is $(ulimit -n); $need needed"

start_server 'version: "3"
server:
  command: "php {{ROOT}}/examples/hello/worker.php"
http:
  address: 127.0.0.1:{{PORT}}
  read_header_timeout: '"$HEADER_TIMEOUT"'s
  max_connections: '"$((COUNT + 1000))"'
  pool:
    num_workers: 4
logs:
  level: info'
wait_workers 4 || die "4 workers did not become ready"

# Baseline: the same normal clients before the attack, so the figures show what the attack costs
# (on a busy machine the baseline itself can be far from an idle one's).
BASE_SECONDS=$((SECONDS_RUN / 3 > 5 ? 5 : SECONDS_RUN / 3 > 2 ? SECONDS_RUN / 3 : 2))
base=$(WRK_DELAY_MS=$PACE_MS wrk -t1 "-c$CONNECTIONS" "-d${BASE_SECONDS}s" --timeout 5s --latency \
    -s "$ROOT/tests/chaos/status_count.lua" "$URL/") || die "wrk (baseline) failed: $base"
read -r _ _ base_p99 _ _ _ <<<"$(parse_wrk <<<"$base")" || die "could not parse wrk output: $base"

log "$COUNT slowloris connections (a byte every ${INTERVAL}s, read_header_timeout ${HEADER_TIMEOUT}s) for ${SECONDS_RUN}s"
php "$ROOT/tests/chaos/slowloris.php" 127.0.0.1 "$PORT" "$COUNT" "$INTERVAL" "$((SECONDS_RUN + 1))" \
    >"$TMP/slowloris.txt" 2>"$TMP/slowloris.err" &
LORIS_PID=$!
STARTED+=("$LORIS_PID")
for ((i = 0; i < 300; i++)); do
    (($(server_connections) >= COUNT)) && break
    kill -0 "$LORIS_PID" 2>/dev/null || die "slowloris client exited: $(cat "$TMP/slowloris.err")"
    sleep 0.1
done
held=$(server_connections)
((held >= COUNT)) || die "only $held of $COUNT slowloris connections are established"

log "wrk -c$CONNECTIONS (pause ${PACE_MS} ms between requests) for ${SECONDS_RUN}s against the same server"
out=$(WRK_DELAY_MS=$PACE_MS wrk -t1 "-c$CONNECTIONS" "-d${SECONDS_RUN}s" --timeout 5s --latency -s "$ROOT/tests/chaos/status_count.lua" "$URL/") ||
    die "wrk failed: $out"
wait "$LORIS_PID" || die "slowloris client failed: $(cat "$TMP/slowloris.err")"
kill -0 "$SERVER_PID" 2>/dev/null || die "pivot-server died"
after=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 "$URL/" || true)

read -r rps p50 p99 requests non2xx serr <<<"$(parse_wrk <<<"$out")" || die "could not parse wrk output: $out"
read -r s2xx s5xx sother <<<"$(grep -o 'status_2xx=[0-9]* status_5xx=[0-9]* status_other=[0-9]*' <<<"$out" |
    sed 's/[a-z_0-9]*=//g')"
loris=$(cat "$TMP/slowloris.txt")
val() { grep -o "$1=[0-9]*" <<<"$loris" | cut -d= -f2; }

figure duration_s "$SECONDS_RUN"
figure slowloris_connections "$COUNT"
figure slowloris_established_before_wrk "$held"
figure slowloris_opened_total "$(val opened)"
figure slowloris_open_at_end "$(val open_at_end)"
figure normal_requests "$requests"
figure normal_rps "$rps"
figure normal_p50_ms "$p50"
figure normal_pause_ms "$PACE_MS"
figure baseline_p99_ms_without_attack "$base_p99"
figure load_average "\"$(cut -d' ' -f1-3 /proc/loadavg)\""
check normal_p99_ms "$p99" "<" 10
check normal_failures "$((requests - s2xx + serr))" "==" 0
check slowloris_closed_with_408 "$(val closed_408)" ">=" "$COUNT"
check slowloris_closed_without_408 "$(val closed_other)" "==" 0
check slowloris_connect_failed "$(val connect_failed)" "==" 0
check new_request_status "$after" "==" 200
finish
