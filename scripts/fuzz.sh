#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (clang-14, ASan + UBSan, build dir $FUZZ_BUILD) and
# runs each for $FUZZ_SECONDS, $FUZZ_JOBS at a time. Every target first replays its regression
# inputs (tests/fuzz/regressions/<name>/*). Prints per fuzzer: executions, exec/s, corpus size,
# coverage (edges, features) and findings; exits non-zero when any fuzzer finds a crash, a leak, a
# timeout or an out-of-memory (the input is kept under $FUZZ_BUILD/artifacts/<name>/).
#   FUZZ_SECONDS=60 FUZZ_JOBS=2 FUZZ_ONLY="config rpc_request" FUZZ_NICE=19 FUZZ_TIMEOUT=10 scripts/fuzz.sh
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_JOBS=${FUZZ_JOBS:-2}
FUZZ_BUILD=${FUZZ_BUILD:-build-fuzz}
FUZZ_NICE=${FUZZ_NICE:-0}
# Seconds one input may take before it counts as a hang (wall clock: raise it on a loaded machine).
FUZZ_TIMEOUT=${FUZZ_TIMEOUT:-10}
FUZZERS=(frame_decoder http_request form multipart config rpc_request)
if [ -n "${FUZZ_ONLY:-}" ]; then read -r -a FUZZERS <<< "$FUZZ_ONLY"; fi

CC=clang-14 CXX=clang++-14 cmake -S . -B "$FUZZ_BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPIVOT_FUZZ=ON > /dev/null
cmake --build "$FUZZ_BUILD" -j"$FUZZ_JOBS" > "$FUZZ_BUILD/fuzz-build.log" 2>&1 || {
  cat "$FUZZ_BUILD/fuzz-build.log" >&2
  exit 1
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# Runs one fuzzer; its log and a one-line summary go to $FUZZ_BUILD/logs/<name>.{log,summary}.
run_one() {
  local name=$1
  local bin="$FUZZ_BUILD/fuzz/fuzz_$name"
  local corpus="$FUZZ_BUILD/corpus/$name"
  local artifacts="$FUZZ_BUILD/artifacts/$name"
  local log="$FUZZ_BUILD/logs/$name.log"
  mkdir -p "$corpus" "$artifacts" "$FUZZ_BUILD/logs"
  rm -f "$artifacts"/* "$FUZZ_BUILD/logs/$name.summary"
  local status=0
  local regressions=(tests/fuzz/regressions/"$name"/*)
  if [ -e "${regressions[0]}" ]; then
    "$bin" -artifact_prefix="$artifacts/" "${regressions[@]}" > "$log.regressions" 2>&1 || status=$?
  fi
  if [ "$status" -eq 0 ]; then
    nice -n "$FUZZ_NICE" "$bin" -max_total_time="$FUZZ_SECONDS" -timeout="$FUZZ_TIMEOUT" -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$artifacts/" "$corpus" "tests/fuzz/corpus/$name" > "$log" 2>&1 || status=$?
  else
    cp "$log.regressions" "$log"
  fi
  local findings execs rate line cov ft
  findings=$(find "$artifacts" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  line=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<< "$line")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<< "$line")
  printf '%-14s execs=%-10s exec/s=%-7s corpus=%-6s cov=%-6s ft=%-7s findings=%s status=%s\n' \
    "$name" "${execs:-?}" "${rate:-?}" "$(find "$corpus" -type f | wc -l)" "${cov:-?}" "${ft:-?}" "$findings" "$status" \
    > "$FUZZ_BUILD/logs/$name.summary"
}

echo "fuzz: ${#FUZZERS[@]} fuzzers, ${FUZZ_SECONDS}s each, $FUZZ_JOBS at a time (logs in $FUZZ_BUILD/logs)"
pids=()
for name in "${FUZZERS[@]}"; do
  if [ ! -x "$FUZZ_BUILD/fuzz/fuzz_$name" ]; then
    echo "fuzz: no fuzzer named $name (known: frame_decoder http_request form multipart config rpc_request)" >&2
    exit 2
  fi
  while [ "$(jobs -rp | wc -l)" -ge "$FUZZ_JOBS" ]; do wait -n || true; done
  run_one "$name" &
  pids+=($!)
done
wait || true

failed=0
for name in "${FUZZERS[@]}"; do
  summary="$FUZZ_BUILD/logs/$name.summary"
  if [ ! -s "$summary" ]; then
    echo "$name: no summary (see $FUZZ_BUILD/logs/$name.log)"
    failed=1
    continue
  fi
  cat "$summary"
  if ! grep -q 'findings=0 status=0$' "$summary"; then
    failed=1
    echo "  -> FINDING: $(ls "$FUZZ_BUILD/artifacts/$name" 2>/dev/null | tr '\n' ' ')(log: $FUZZ_BUILD/logs/$name.log)"
    grep -m3 -E 'ERROR: |runtime error|SUMMARY' "$FUZZ_BUILD/logs/$name.log" | sed 's/^/     /' || true
  fi
done
if [ "$failed" -ne 0 ]; then
  echo "fuzz: FAILED"
  exit 1
fi
echo "fuzz: ${#FUZZERS[@]} fuzzers, no finding"
