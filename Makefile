# pivot-server: the two commands are `make serve` and `make test` (see README.md).
SHELL := /bin/bash
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc)
BUILD_TYPE ?= RelWithDebInfo

.PHONY: setup build serve test test-unit test-asan check-layering bench clean

setup:
	@scripts/setup.sh

build: setup
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) > /dev/null
	@cmake --build $(BUILD) -j$(JOBS)

## Serve examples/hello on http://127.0.0.1:8080 (Ctrl-C stops gracefully).
serve: build
	exec $(BUILD)/pivot-server serve -w examples/hello -c .pivot.yaml

## Every test: layering rules, C++ unit and integration tests, PHPUnit, then the same C++ suites
## again under AddressSanitizer + UndefinedBehaviorSanitizer.
test: build check-layering
	cd $(BUILD) && ctest --output-on-failure
	$(MAKE) test-asan

test-asan: setup
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DPIVOT_SANITIZE=ON > /dev/null
	@cmake --build $(ASAN_BUILD) -j$(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -E php-worker

check-layering:
	@scripts/check-layering.sh

## Side-by-side benchmark against nginx + php-fpm (installs nginx, php-fpm, wrk; not part of `test`).
bench: build
	PIVOT_BIN=$(BUILD)/pivot-server bench/run.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
