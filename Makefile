# pivot-server: the two commands are `make serve` and `make test` (see README.md).
SHELL := /bin/bash
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc)
BUILD_TYPE ?= RelWithDebInfo
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60

.PHONY: setup build serve test test-unit test-asan check-layering bench clean fuzz chaos soak

setup:
	@scripts/setup.sh

build: setup
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) > /dev/null
	@cmake --build $(BUILD) -j$(JOBS)

## Serve examples/hello on http://127.0.0.1:8080 (Ctrl-C stops gracefully).
serve: build
	exec $(BUILD)/pivot-server serve -w examples/hello -c .pivot.yaml

## Every test: layering rules, C++ unit and integration tests, PHPUnit, then the same C++ suites
## again under AddressSanitizer + UndefinedBehaviorSanitizer, then every fuzzer for FUZZ_SECONDS.
## Also short runs of the chaos suite (10 s per scenario) and the soak (100,000 requests).
test: build check-layering
	cd $(BUILD) && ctest --output-on-failure
	CHAOS_SECONDS=$${CHAOS_SECONDS:-10} $(MAKE) chaos
	SOAK_REQUESTS=$${SOAK_REQUESTS:-100000} $(MAKE) soak
	$(MAKE) test-asan
	$(MAKE) fuzz

test-asan: setup
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DPIVOT_SANITIZE=ON > /dev/null
	@cmake --build $(ASAN_BUILD) -j$(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -E php-worker

## libFuzzer targets (tests/fuzz, clang-14 + ASan + UBSan in $(FUZZ_BUILD)): each runs FUZZ_SECONDS,
## two at a time; prints executions, exec/s, corpus and findings, fails on any crash/leak/timeout.
fuzz: setup
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_BUILD=$(FUZZ_BUILD) scripts/fuzz.sh

## Chaos suite (tests/chaos, not in ctest): worker SIGKILLs, misbehaving workers, 1,000 slowloris
## connections, rolling resets, each under wrk load; CHAOS_SECONDS per scenario (default 30).
chaos: build
	PIVOT_BIN=$(abspath $(BUILD))/pivot-server tests/chaos/run.sh

## Soak (tests/soak): SOAK_REQUESTS hello-world requests (default 1,000,000); server RSS growth < 5 %,
## fds back to baseline, worker count stable.
soak: build
	PIVOT_BIN=$(abspath $(BUILD))/pivot-server tests/soak/soak.sh

check-layering:
	@scripts/check-layering.sh

## Side-by-side benchmark against nginx + php-fpm (installs nginx, php-fpm, wrk; not part of `test`).
bench: build
	PIVOT_BIN=$(BUILD)/pivot-server bench/run.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
