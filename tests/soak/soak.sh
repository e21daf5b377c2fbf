#!/usr/bin/env bash
# Soak: hello world (4 workers, max_jobs off) under wrk until SOAK_REQUESTS requests are done.
# wrk runs in rounds of at most 10 s (it only knows durations) until the count is reached.
# The server's RSS and open fds are measured after a warm-up (WARMUP_REQUESTS, same load) and again after the soak, once wrk's connections are closed.
# Bounds: RSS growth < 5 %; open fds back to the baseline; the same number of workers (and the
# figures say whether they are the same pids); every request 2xx, no socket error.
# Env: SOAK_REQUESTS (default 1000000), WARMUP_REQUESTS (default 50000), CONNECTIONS (default 16).
source "$(dirname "${BASH_SOURCE[0]}")/../chaos/lib.sh"

N=${SOAK_REQUESTS:-1000000}
WARMUP=${WARMUP_REQUESTS:-50000}
CONNECTIONS=${CONNECTIONS:-16}
require_tools
[[ $N =~ ^[1-9][0-9]*$ ]] || die "SOAK_REQUESTS must be a positive integer"

start_server 'version: "3"
server:
  command: "php {{ROOT}}/examples/hello/worker.php"
http:
  address: 127.0.0.1:{{PORT}}
  pool:
    num_workers: 4
    max_jobs: 0
logs:
  level: info'
wait_workers 4 || die "4 workers did not become ready"

# wrk until at least COUNT requests are done (wrk only knows durations: rounds of at most 10 s,
# each sized from the rate so far). Sets W_REQUESTS W_2XX W_OTHER W_SERR W_P99_MAX W_ROUNDS.
run_wrk() {
    local count=$1 rate=${2:-5000} secs out rps p50 p99 n bad serr s2xx s5xx sother t0 ms
    W_REQUESTS=0 W_2XX=0 W_OTHER=0 W_SERR=0 W_P99_MAX=0 W_ROUNDS=0
    t0=${EPOCHREALTIME/./}
    while ((W_REQUESTS < count)); do
        secs=$(((count - W_REQUESTS) / rate + 1))
        ((secs > 10)) && secs=10
        out=$(wrk -t1 "-c$CONNECTIONS" "-d${secs}s" --timeout 5s --latency -s "$ROOT/tests/chaos/status_count.lua" "$URL/") ||
            die "wrk failed: $out"
        read -r rps p50 p99 n bad serr <<<"$(parse_wrk <<<"$out")" || die "could not parse wrk output: $out"
        read -r s2xx s5xx sother <<<"$(grep -o 'status_2xx=[0-9]* status_5xx=[0-9]* status_other=[0-9]*' <<<"$out" |
            sed 's/[a-z_0-9]*=//g')"
        W_REQUESTS=$((W_REQUESTS + n)) W_2XX=$((W_2XX + s2xx)) W_OTHER=$((W_OTHER + s5xx + sother))
        W_SERR=$((W_SERR + serr)) W_ROUNDS=$((W_ROUNDS + 1))
        W_P99_MAX=$(awk -v a="$W_P99_MAX" -v b="$p99" 'BEGIN { print (b > a ? b : a) }')
        ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
        rate=$((W_REQUESTS * 1000 / (ms > 0 ? ms : 1) + 1))
    done
    W_RATE=$rate
}

# Waits until the server holds no client connection, then prints "rss_kib fds".
settle_and_measure() {
    local i
    for ((i = 0; i < 50; i++)); do
        (($(server_connections) == 0)) && break
        sleep 0.1
    done
    sleep 0.5 # let closed sessions' coroutines finish before reading /proc
    echo "$(rss_kib "$SERVER_PID") $(fd_count "$SERVER_PID")"
}

log "warm-up: $WARMUP requests"
run_wrk "$WARMUP"
warm_rate=$W_RATE
read -r rss0 fds0 <<<"$(settle_and_measure)"
pids0=$(worker_pids | sort | tr '\n' ' ')

log "soak: $N requests over $CONNECTIONS connections"
t0=${EPOCHREALTIME/./}
run_wrk "$N" "$warm_rate"
elapsed_ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
kill -0 "$SERVER_PID" 2>/dev/null || die "pivot-server died"
read -r rss1 fds1 <<<"$(settle_and_measure)"
pids1=$(worker_pids | sort | tr '\n' ' ')

workers0=$(wc -w <<<"$pids0")
workers1=$(wc -w <<<"$pids1")

figure requests "$W_REQUESTS"
figure wrk_rounds "$W_ROUNDS"
figure elapsed_s "$(awk -v ms="$elapsed_ms" 'BEGIN { printf "%.1f", ms / 1000 }')"
figure rps "$(awk -v ms="$elapsed_ms" -v n="$W_REQUESTS" 'BEGIN { printf "%.0f", n * 1000 / ms }')"
figure p99_ms_worst_round "$W_P99_MAX"
figure rss_before_kib "$rss0"
figure rss_after_kib "$rss1"
figure fds_before "$fds0"
figure fds_after "$fds1"
figure worker_pids_unchanged "$([[ $pids0 == "$pids1" ]] && echo yes || echo no)"
check requests_done "$W_REQUESTS" ">=" "$N"
check failed_requests "$((W_OTHER + W_SERR))" "==" 0
check rss_growth_pct "$(awk -v a="$rss0" -v b="$rss1" 'BEGIN { printf "%.2f", (b - a) * 100 / a }')" "<" 5
check fd_growth "$((fds1 - fds0))" "<=" 0
check workers_after "$workers1" "==" "$workers0"
check workers_before "$workers0" "==" 4
finish
