#!/usr/bin/env bash
# Chaos 2: workers that misbehave while a healthy pool keeps serving. One pool of 4 workers
# (tests/chaos/workers/misbehave.php); wrk sends healthy requests to / while a loop turns workers
# bad in rotation: one prints garbage on stdout (protocol error: killed), one leaks memory past
# max_worker_memory (48 MiB: retired), one deadlocks (exec_ttl 2s: SIGKILLed, 504).
# Bounds: healthy requests 100 % 2xx with no socket error, their p99 < 500 ms (a quarter of exec_ttl:
# no healthy request ever waits for a bad worker); every bad worker's pid is gone from the pool
# (log line per failure mode), the server is up with 4 ready workers and answers a new request.
# Env: CHAOS_SECONDS (default 30), CONNECTIONS (default 8).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SECONDS_RUN=${CHAOS_SECONDS:-30}
CONNECTIONS=${CONNECTIONS:-8}
require_tools

start_server 'version: "3"
server:
  command: "php {{ROOT}}/tests/chaos/workers/misbehave.php"
  env:
    CHAOS_LOCK_DIR: "'"$TMP"'"
http:
  address: 127.0.0.1:{{PORT}}
  pool:
    num_workers: 4
    supervisor:
      watch_tick: 100ms
      max_worker_memory: 48
      exec_ttl: 2s
logs:
  level: info'
wait_workers 4 || die "4 workers did not become ready"
initial_pids=$(worker_pids | sort | tr '\n' ' ')

log "wrk -c$CONNECTIONS on / for ${SECONDS_RUN}s while workers print garbage, leak and deadlock"
wrk -t1 "-c$CONNECTIONS" "-d${SECONDS_RUN}s" --timeout 5s --latency -s "$ROOT/tests/chaos/status_count.lua" \
    "$URL/" >"$TMP/wrk.txt" 2>&1 &
WRK_PID=$!

declare -A sent=() got=() statuses=()
leak_pids=()
while kill -0 "$WRK_PID" 2>/dev/null; do
    for kind in garbage leak deadlock; do
        kill -0 "$WRK_PID" 2>/dev/null || break
        out=$(curl -sS --max-time 10 -w ' %{http_code}' "$URL/$kind?mb=64" 2>/dev/null || echo ' 000')
        status=${out##* }
        sent[$kind]=$((${sent[$kind]:-0} + 1))
        got[$kind:$status]=$((${got[$kind:$status]:-0} + 1))
        statuses[$kind]+="$status "
        [[ $kind == leak && $out =~ leaked\ by\ ([0-9]+) ]] && leak_pids+=("${BASH_REMATCH[1]}")
        sleep 0.3
    done
done
wait "$WRK_PID" || die "wrk failed: $(cat "$TMP/wrk.txt")"
out=$(cat "$TMP/wrk.txt")
kill -0 "$SERVER_PID" 2>/dev/null || die "pivot-server died"

read -r rps p50 p99 requests non2xx serr <<<"$(parse_wrk <<<"$out")" || die "could not parse wrk output: $out"
read -r s2xx s5xx sother <<<"$(grep -o 'status_2xx=[0-9]* status_5xx=[0-9]* status_other=[0-9]*' <<<"$out" |
    sed 's/[a-z_0-9]*=//g')"
wait_workers 4 && ready_after=4 || ready_after=$(worker_pids | wc -l)
after=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 "$URL/" || true)

# The bad workers, from the server's log, and whether each one left the pool.
log_file=$TMP/server.log
mapfile -t garbage_pids < <(grep -o 'event=worker_protocol_error pool=http pid=[0-9]*' "$log_file" | grep -o '[0-9]*$')
mapfile -t memory_pids < <(grep 'reason=max_worker_memory' "$log_file" | grep -o 'pid=[0-9]*' | grep -o '[0-9]*' | sort -u)
mapfile -t deadlock_pids < <(grep -o 'event=exec_ttl_expired pool=http pid=[0-9]*' "$log_file" | grep -o '[0-9]*$')
live=" $(worker_pids | tr '\n' ' ') "
still_serving=0
for p in "${garbage_pids[@]}" "${memory_pids[@]}" "${deadlock_pids[@]}" "${leak_pids[@]}"; do
    [[ $live == *" $p "* ]] && still_serving=$((still_serving + 1))
done
exited=$(grep -c 'event=worker_exited\|event=worker_died' "$log_file" || true)

figure duration_s "$SECONDS_RUN"
figure healthy_requests "$requests"
figure healthy_rps "$rps"
figure healthy_p50_ms "$p50"
figure healthy_success_pct "$(awk -v ok="$s2xx" -v n="$requests" 'BEGIN { printf "%.3f", n ? 100 * ok / n : 0 }')"
figure garbage_requests "${sent[garbage]:-0} (statuses: ${statuses[garbage]:-})"
figure leak_requests "${sent[leak]:-0} (statuses: ${statuses[leak]:-})"
figure deadlock_requests "${sent[deadlock]:-0} (statuses: ${statuses[deadlock]:-})"
figure workers_exited_log_lines "$exited"
figure pids_initial "\"$initial_pids\""
figure pids_final "\"$(worker_pids | sort | tr '\n' ' ')\""
check healthy_failures "$((requests - s2xx + serr))" "==" 0
check healthy_p99_ms "$p99" "<" 500
check garbage_answered_502 "${got[garbage:502]:-0}" "==" "${sent[garbage]:-0}"
check leak_answered_200 "${got[leak:200]:-0}" "==" "${sent[leak]:-0}"
check deadlock_answered_504 "${got[deadlock:504]:-0}" "==" "${sent[deadlock]:-0}"
check garbage_workers_replaced "${#garbage_pids[@]}" ">=" 1
check leaking_workers_replaced "${#memory_pids[@]}" ">=" 1
check deadlocked_workers_replaced "${#deadlock_pids[@]}" ">=" 1
check bad_pids_still_in_pool "$still_serving" "==" 0
check workers_ready_after "$ready_after" "==" 4
check new_request_status "$after" "==" 200
finish
