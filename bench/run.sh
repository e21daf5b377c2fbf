#!/usr/bin/env bash
# Side-by-side benchmark: pivot-server (examples/hello, 2 workers; io_threads=1 and =2) against
# nginx + php-fpm (pm=static, 2 children, the same page, opcache on), each driven by
# `wrk -t1 -c$CONNECTIONS -d$DURATION --latency`, in two layouts:
#   pinned   = server + its workers (or nginx + php-fpm) on CPU 0, wrk on CPU 1 (taskset)
#   unpinned = no taskset at all
# Prints req/s, p50, p99 and server CPU µs per request (utime+stime from /proc over the server's
# whole process tree), then pivot/fpm ratios; writes the same report to bench/results/latest.md.
#
# Usage: bench/run.sh                       (or `make bench`, which builds build/ first)
# Env:   PIVOT_BIN    pivot-server binary            (default: <repo>/build/pivot-server)
#        DURATION     measured wrk run per row       (default: 10s)
#        WARMUP       wrk warm-up before each row    (default: 2s)
#        CONNECTIONS  wrk connections                (default: 64)
#        LAYOUTS      which layouts to run           (default: "pinned unpinned")
#        REPEAT       rounds of all rows, interleaved; each row reports its median-req/s
#                     round (default: 1; use 3+ on a busy machine)
#
# Installs nginx, php8.2-fpm and wrk with apt-get when missing (needs root then). Starts no system
# service and touches no file under /etc: nginx and php-fpm run from configs generated in a temp
# dir, on free loopback ports, and everything started here is stopped on exit.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PIVOT_BIN=${PIVOT_BIN:-$ROOT/build/pivot-server}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
CONNECTIONS=${CONNECTIONS:-64}
LAYOUTS=${LAYOUTS:-pinned unpinned}
REPEAT=${REPEAT:-1}
RESULTS=$ROOT/bench/results/latest.md
PHP_FPM=php-fpm8.2
EXPECTED_BODY=$'Hello, world!\n' # what examples/hello/worker.php answers

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] error: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------
# Dependencies (idempotent).

install_deps() {
    local missing=() pkg
    for pkg in nginx php8.2-fpm wrk; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
            missing+=("$pkg")
        fi
    done
    ((${#missing[@]} == 0)) && return 0
    [[ $EUID -eq 0 ]] || die "missing packages: ${missing[*]} (run as root, or install them first)"
    log "installing ${missing[*]}"
    # Keep the packages' postinst from starting the system nginx / php-fpm services: a
    # policy-rc.d that denies every start, only for the duration of the install and only if the
    # system has none (Docker images usually ship one already).
    local created_policy=0
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        created_policy=1
    fi
    local rc=0
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y --no-install-recommends "${missing[@]}" >&2 ||
        { apt-get update >&2 && apt-get install -y --no-install-recommends "${missing[@]}" >&2; } ||
        rc=$?
    ((created_policy)) && rm -f /usr/sbin/policy-rc.d
    ((rc == 0)) || die "apt-get install ${missing[*]} failed"
}

[[ $REPEAT =~ ^[1-9][0-9]*$ ]] || die "REPEAT must be a positive integer"
install_deps
for cmd in nginx "$PHP_FPM" wrk taskset curl php; do
    command -v "$cmd" >/dev/null || die "$cmd not found"
done
[[ -x $PIVOT_BIN ]] || die "pivot-server binary not found at $PIVOT_BIN (build it, or set PIVOT_BIN)"
[[ $("$PHP_FPM" -m 2>/dev/null) == *"Zend OPcache"* ]] || die "$PHP_FPM has no Zend OPcache module"
NCPU=$(nproc)
if [[ " $LAYOUTS " == *" pinned "* ]] && ((NCPU < 2)); then
    die "the pinned layout needs 2 CPUs (have $NCPU); run with LAYOUTS=unpinned"
fi
CLK_TCK=$(getconf CLK_TCK)

# ---------------------------------------------------------------------------------------------
# Temp dir, cleanup.

TMP=$(mktemp -d /tmp/pivot-bench.XXXXXX)
chmod 755 "$TMP" # nginx workers (user nobody when started as root) must reach the fpm socket
STARTED=()       # root pids of everything we started and have not stopped yet

# Every pid of the process trees rooted at the given pids (roots included, dead roots omitted).
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

# Stop one process tree: SIGTERM to the root (graceful), SIGKILL to whatever is left after 10 s.
stop_tree() {
    local root=$1 pids i p
    pids=$(tree_pids "$root")
    kill -TERM "$root" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        kill -0 "$root" 2>/dev/null || break
        sleep 0.1
    done
    for p in $pids; do kill -KILL "$p" 2>/dev/null || true; done
    { wait "$root"; } 2>/dev/null || true
    local keep=() s
    for s in "${STARTED[@]}"; do [[ $s == "$root" ]] || keep+=("$s"); done
    STARTED=("${keep[@]}")
}

cleanup() {
    local rc=$? p
    trap - EXIT INT TERM
    for p in "${STARTED[@]}"; do stop_tree "$p"; done
    rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
    php -r '$s = stream_socket_server("tcp://127.0.0.1:0", $e, $m) or exit(1);
            $n = stream_socket_get_name($s, false); echo substr($n, strrpos($n, ":") + 1), "\n";'
}

# Sum of utime+stime (+cutime+cstime, i.e. reaped children such as respawned workers) over the
# process trees, in clock ticks. Threads are included in their process's counters.
cpu_ticks() {
    local total=0 p s f
    for p in $(tree_pids "$@"); do
        s=$(cat "/proc/$p/stat" 2>/dev/null) || continue
        s=${s##*) } # drop "pid (comm) "; comm may contain spaces; f[0] is field 3 (state)
        read -ra f <<<"$s"
        total=$((total + f[11] + f[12] + f[13] + f[14])) # fields 14,15,16,17
    done
    echo "$total"
}

# Wait until the URL answers 200; fail early if a root process died.
wait_ready() {
    local url=$1 i p
    shift
    for ((i = 0; i < 200; i++)); do
        curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null && return 0
        for p in "$@"; do kill -0 "$p" 2>/dev/null || return 1; done
        sleep 0.1
    done
    return 1
}

# ---------------------------------------------------------------------------------------------
# Servers. Each start_* sets ROOTS (pids whose trees make up "the server") and URL.

start_pivot() { # io_threads [more -o overrides...]
    local io=$1 port log
    shift
    port=$(free_port)
    log="$TMP/pivot-io$io-$#.log"
    "${PIN_SERVER[@]}" "$PIVOT_BIN" serve -w "$ROOT/examples/hello" -c .pivot.yaml \
        -o "http.address=127.0.0.1:$port" -o http.pool.num_workers=2 \
        -o logs.level=warn -o "http.io_threads=$io" "$@" >"$log" 2>&1 &
    ROOTS=($!)
    STARTED+=("${ROOTS[@]}")
    URL=http://127.0.0.1:$port/
    LOGS=("$log")
}

write_fpm_configs() {
    mkdir -p "$TMP/www" "$TMP/nginx-tmp"
    cat >"$TMP/www/hello.php" <<'PHP'
<?php
header('Content-Type: text/plain');
echo "Hello, world!\n";
PHP
    cat >"$TMP/www/opcache.php" <<'PHP'
<?php
$s = function_exists('opcache_get_status') ? opcache_get_status(false) : false;
echo ($s && $s['opcache_enabled']) ? "on\n" : "off\n";
PHP
    chmod -R a+rX "$TMP/www"
    cat >"$TMP/php-fpm.conf" <<EOF
[global]
pid = $TMP/php-fpm.pid
error_log = $TMP/php-fpm.log
daemonize = no

[hello]
listen = $TMP/php-fpm.sock
listen.mode = 0666
pm = static
pm.max_children = 2
php_admin_value[opcache.enable] = 1
php_admin_flag[expose_php] = off
EOF
}

start_fpm() {
    local port extra=()
    port=$(free_port)
    [[ $EUID -eq 0 ]] && extra=(-R) # allow the pool to run as root (bench only)
    "${PIN_SERVER[@]}" "$PHP_FPM" --nodaemonize --fpm-config "$TMP/php-fpm.conf" \
        --prefix "$TMP" "${extra[@]}" >"$TMP/php-fpm.stdout" 2>&1 &
    local fpm=$!
    cat >"$TMP/nginx.conf" <<EOF
worker_processes 1;
pid $TMP/nginx.pid;
error_log $TMP/nginx-error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    server_tokens off;
    default_type text/plain;
    keepalive_requests 1000000;
    client_body_temp_path $TMP/nginx-tmp/body;
    proxy_temp_path $TMP/nginx-tmp/proxy;
    fastcgi_temp_path $TMP/nginx-tmp/fastcgi;
    uwsgi_temp_path $TMP/nginx-tmp/uwsgi;
    scgi_temp_path $TMP/nginx-tmp/scgi;
    server {
        listen 127.0.0.1:$port;
        location = /__opcache {
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME $TMP/www/opcache.php;
            fastcgi_pass unix:$TMP/php-fpm.sock;
        }
        location / {
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME $TMP/www/hello.php;
            fastcgi_pass unix:$TMP/php-fpm.sock;
        }
    }
}
EOF
    "${PIN_SERVER[@]}" nginx -p "$TMP" -e "$TMP/nginx-error.log" -c "$TMP/nginx.conf" \
        -g 'daemon off;' >"$TMP/nginx.stdout" 2>&1 &
    ROOTS=("$!" "$fpm")
    STARTED+=("${ROOTS[@]}")
    URL=http://127.0.0.1:$port/
    LOGS=("$TMP/nginx-error.log" "$TMP/nginx.stdout" "$TMP/php-fpm.log" "$TMP/php-fpm.stdout")
}

show_logs() {
    local f
    for f in "${LOGS[@]}"; do [[ -s $f ]] && { log "--- $f"; tail -n 20 "$f" >&2; }; done
    return 0
}

# ---------------------------------------------------------------------------------------------
# One measurement.

# Prints "rps p50_ms p99_ms requests non2xx socket_errors" from wrk's output on stdin.
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

ROWS=()     # "layout|server|rps|p50|p99|cpu_us", one per measurement (REPEAT per row)
WARNINGS=()

measure() { # layout, server label, start function + args
    local layout=$1 label=$2
    shift 2
    log "$layout / $label: starting (round $ROUND/$REPEAT)"
    "$@"
    if ! wait_ready "$URL" "${ROOTS[@]}"; then
        show_logs
        die "$label did not answer on $URL"
    fi
    local body
    body=$(curl -fsS "$URL"; echo x)
    body=${body%x}
    [[ $body == "$EXPECTED_BODY" ]] || die "$label answered $(printf '%q' "$body"), expected $(printf '%q' "$EXPECTED_BODY")"
    if [[ $label == nginx* ]]; then
        local oc
        oc=$(curl -fsS "${URL}__opcache")
        [[ $oc == on ]] || die "opcache is not enabled in php-fpm (got '$oc')"
    fi

    local wrk_cmd=("${PIN_WRK[@]}" wrk -t1 "-c$CONNECTIONS")
    "${wrk_cmd[@]}" "-d$WARMUP" "$URL" >/dev/null
    local load before after out
    load=$(cut -d' ' -f1 /proc/loadavg)
    before=$(cpu_ticks "${ROOTS[@]}")
    out=$("${wrk_cmd[@]}" "-d$DURATION" --latency "$URL")
    after=$(cpu_ticks "${ROOTS[@]}")
    printf '%s\n' "$out" >"$TMP/wrk-$layout-${label// /_}.txt"

    local parsed rps p50 p99 n bad serr cpu_us
    parsed=$(parse_wrk <<<"$out") || { printf '%s\n' "$out" >&2; die "could not parse wrk output"; }
    read -r rps p50 p99 n bad serr <<<"$parsed"
    ((n > 0)) || die "wrk completed no request against $label"
    cpu_us=$(awk -v d=$((after - before)) -v hz="$CLK_TCK" -v n="$n" 'BEGIN { printf "%.1f", d * 1e6 / hz / n }')
    ((bad == 0)) || WARNINGS+=("$layout / $label: $bad non-2xx responses")
    ((serr == 0)) || WARNINGS+=("$layout / $label: $serr socket errors")
    log "$layout / $label: $rps req/s, p50 $p50 ms, p99 $p99 ms, $cpu_us CPU µs/req (load1 $load)"
    ROWS+=("$layout|$label|$rps|$p50|$p99|$cpu_us")

    local r
    for r in "${ROOTS[@]}"; do stop_tree "$r"; done
}

write_fpm_configs
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
SERVERS=("pivot-server io_threads=1" "pivot-server io_threads=2" "pivot-server no pipelining" "nginx + php-fpm")
for layout in $LAYOUTS; do
    [[ $layout == pinned || $layout == unpinned ]] || die "unknown layout '$layout' (pinned, unpinned)"
done
for ((ROUND = 1; ROUND <= REPEAT; ROUND++)); do
    for layout in $LAYOUTS; do
        case $layout in
            pinned) PIN_SERVER=(taskset -c 0) PIN_WRK=(taskset -c 1) ;;
            unpinned) PIN_SERVER=() PIN_WRK=() ;;
        esac
        measure "$layout" "${SERVERS[0]}" start_pivot 1
        measure "$layout" "${SERVERS[1]}" start_pivot 2
        # The defaults pipeline (http.pool.pipeline_depth 2, sched_batch true): this row turns both
        # off, to show what they are worth (config/reference.yaml), io_threads=1.
        measure "$layout" "${SERVERS[2]}" start_pivot 1 -o http.pool.pipeline_depth=0 -o http.pool.sched_batch=false
        measure "$layout" "${SERVERS[3]}" start_fpm
    done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------------------------------------
# Report.

# The measurement of (layout, server) with the median req/s (the lower middle one for even counts).
median_row() {
    local r c
    for r in "${ROWS[@]}"; do
        IFS='|' read -r -a c <<<"$r"
        if [[ ${c[0]} == "$1" && ${c[1]} == "$2" ]]; then printf '%s\n' "$r"; fi
    done | sort -t'|' -k3,3g | awk '{ row[NR] = $0 } END { print row[int((NR + 1) / 2)] }'
}
MEDIAN=() # one row per (layout, server), in table order
for layout in $LAYOUTS; do
    for server in "${SERVERS[@]}"; do MEDIAN+=("$(median_row "$layout" "$server")"); done
done

field() { # layout, server label, column (3 = rps … 6 = cpu)
    local r c
    for r in "${MEDIAN[@]}"; do
        IFS='|' read -r -a c <<<"$r"
        if [[ ${c[0]} == "$1" && ${c[1]} == "$2" ]]; then echo "${c[$3 - 1]}"; fi
    done
}
# All req/s of (layout, server) in measurement order, e.g. "16336 14128 16617".
all_rps() {
    local r c out=()
    for r in "${ROWS[@]}"; do
        IFS='|' read -r -a c <<<"$r"
        if [[ ${c[0]} == "$1" && ${c[1]} == "$2" ]]; then out+=("$(printf '%.0f' "${c[2]}")"); fi
    done
    echo "${out[*]}"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

report() {
    echo "## pivot-server vs nginx + php-fpm"
    echo
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $NCPU CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')),"
    echo "\`wrk -t1 -c$CONNECTIONS -d$DURATION --latency\` after a $WARMUP warm-up; examples/hello with 2 workers;"
    echo "nginx (1 worker) + php-fpm (pm=static, 2 children, opcache on). $("$PIVOT_BIN" --version 2>&1 | head -n1),"
    echo "$(nginx -v 2>&1 | sed 's/^nginx version: //'), $("$PHP_FPM" -v | head -n1 | cut -d' ' -f1-2), $(wrk -v 2>&1 | head -n1 | cut -d' ' -f1-2)."
    echo "Load average before: $LOAD_BEFORE, after: $LOAD_AFTER."
    if ((REPEAT > 1)); then echo "$REPEAT interleaved rounds; each row is its round with the median req/s."; fi
    echo
    echo "| layout | server | req/s | p50 ms | p99 ms | CPU µs/req |"
    echo "|---|---|---:|---:|---:|---:|"
    local r c
    for r in "${MEDIAN[@]}"; do
        IFS='|' read -r -a c <<<"$r"
        printf '| %s | %s | %.0f | %.3f | %.3f | %s |\n' "${c[0]}" "${c[1]}" "${c[2]}" "${c[3]}" "${c[4]}" "${c[5]}"
    done
    echo
    local layout fpm p1 p2
    for layout in $LAYOUTS; do
        fpm=$(field "$layout" "nginx + php-fpm" 3)
        p1=$(field "$layout" "pivot-server io_threads=1" 3)
        p2=$(field "$layout" "pivot-server io_threads=2" 3)
        echo "pivot/fpm req/s $layout: $(ratio "$p1" "$fpm")×  "
        echo "pivot io_threads=2 / fpm req/s $layout: $(ratio "$p2" "$fpm")×  "
        echo "pivot io_threads=2 / io_threads=1 req/s $layout: $(ratio "$p2" "$p1")×  "
        echo "pivot without pipelining / fpm req/s $layout: $(ratio "$(field "$layout" "pivot-server no pipelining" 3)" "$fpm")×  "
    done
    if ((REPEAT > 1)); then
        echo
        echo "req/s of every round:  "
        local server
        for layout in $LAYOUTS; do
            for server in "${SERVERS[@]}"; do echo "- $layout / $server: $(all_rps "$layout" "$server")"; done
        done
    fi
    if ((${#WARNINGS[@]})); then
        echo
        local w
        for w in "${WARNINGS[@]}"; do echo "warning: $w  "; done
    fi
    echo
    echo "pinned = server and its workers on CPU 0 (taskset -c 0), wrk on CPU 1; unpinned = no taskset."
    echo "CPU µs/req = utime+stime (+ reaped children's) of the server's whole process tree during the measured run / requests."
}

mkdir -p "$(dirname "$RESULTS")"
report | tee "$RESULTS"
log "written to ${RESULTS#"$ROOT"/}"
