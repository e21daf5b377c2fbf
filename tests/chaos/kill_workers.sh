#!/usr/bin/env bash
# Chaos 1: under wrk load (hello world, 4 workers) SIGKILL a random worker every 100 ms.
# Bounds: non-5xx failures (socket errors of any kind, non-2xx non-5xx statuses) = 0; 5xx responses
# <= kills; connections left established on the server after wrk ends = 0; a new request is served;
# the pool is back to 4 ready workers.
# Env: CHAOS_SECONDS (default 30), CONNECTIONS (default 16), CHAOS_KILL (ready: booted workers,
#      the default; any: booting ones too).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SECONDS_RUN=${CHAOS_SECONDS:-30}
CONNECTIONS=${CONNECTIONS:-16}
require_tools

start_server 'version: "3"
server:
  command: "php {{ROOT}}/examples/hello/worker.php"
http:
  address: 127.0.0.1:{{PORT}}
  pool:
    num_workers: 4
logs:
  level: info'
wait_workers 4 || die "4 workers did not become ready"

log "wrk -c$CONNECTIONS for ${SECONDS_RUN}s, SIGKILL of a random worker every 100 ms"
wrk -t1 "-c$CONNECTIONS" "-d${SECONDS_RUN}s" --timeout 5s --latency -s "$ROOT/tests/chaos/status_count.lua" \
    "$URL/" >"$TMP/wrk.txt" 2>&1 &
WRK_PID=$!

# Builtins only in the loop (no fork per tick), paced against the clock: one kill per 100 ms tick.
# Victims: workers that finished booting (their worker_ready line, read incrementally from the log),
# or with CHAOS_KILL=any every child, booting ones included (a boot killed by a signal counts as a
# boot failure, so the pool backs off: on a slow machine it then spends most of the run empty).
exec {TICK_FD}<> <(:)
exec {LOG_FD}<"$TMP/server.log"
declare -A booted=()
carry=''
kills=0 idle_ticks=0
next=${EPOCHREALTIME/./}
while kill -0 "$WRK_PID" 2>/dev/null; do
    while IFS= read -r -u "$LOG_FD" line; do
        line=$carry$line carry=''
        [[ $line =~ event=worker_ready\ pool=http\ pid=([0-9]+) ]] && booted[${BASH_REMATCH[1]}]=1
    done
    carry+=$line # a line still being written
    # Children of every server thread: the live worker processes.
    pids=()
    for f in /proc/"$SERVER_PID"/task/*/children; do
        read -ra c <"$f" || true
        for p in "${c[@]}"; do
            [[ ${CHAOS_KILL:-ready} == any || -n ${booted[$p]:-} ]] && pids+=("$p")
        done
    done
    if ((${#pids[@]} > 0)); then
        victim=${pids[RANDOM % ${#pids[@]}]}
        kill -KILL "$victim" 2>/dev/null && kills=$((kills + 1))
    else
        idle_ticks=$((idle_ticks + 1))
    fi
    next=$((next + 100000))
    wait_us=$((next - ${EPOCHREALTIME/./}))
    ((wait_us > 0)) && { read -rt "$(printf '0.%06d' "$wait_us")" -u "$TICK_FD" || true; }
done
wait "$WRK_PID" || die "wrk failed: $(cat "$TMP/wrk.txt")"
out=$(cat "$TMP/wrk.txt")
kill -0 "$SERVER_PID" 2>/dev/null || die "pivot-server died"

read -r rps p50 p99 requests non2xx serr <<<"$(parse_wrk <<<"$out")" || die "could not parse wrk output: $out"
read -r s2xx s5xx sother <<<"$(grep -o 'status_2xx=[0-9]* status_5xx=[0-9]* status_other=[0-9]*' <<<"$out" |
    sed 's/[a-z_0-9]*=//g')"

# wrk has exited and closed its sockets: the server must close its side (no hanging connection).
hanging=0
for ((i = 0; i < 50; i++)); do
    hanging=$(server_connections)
    ((hanging == 0)) && break
    sleep 0.1
done
after=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 "$URL/" || true)
wait_workers 4 && ready_after=4 || ready_after=$(worker_pids | wc -l)

figure duration_s "$SECONDS_RUN"
figure requests "$requests"
figure rps "$rps"
figure p99_ms "$p99"
figure socket_errors_detail "\"$(socket_errors_line "$out")\""
figure victims "${CHAOS_KILL:-ready}"
figure ticks_without_a_victim "$idle_ticks"
figure boots_killed "$(grep -c 'event=worker_boot_failed' "$TMP/server.log" || true)"
check kills "$kills" ">=" 1
check non_5xx_failures "$((serr + sother))" "==" 0
check status_5xx "$s5xx" "<=" "$kills"
check requests_ok "$s2xx" ">=" 1
check connections_hanging "$hanging" "==" 0
check new_request_status "$after" "==" 200
check workers_ready_after "$ready_after" "==" 4
finish
