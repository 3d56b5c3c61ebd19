# Quick start: `make demo` and `make test` (see README.md). Each installs missing Debian packages,
# configures and builds what it needs, then runs. `make demo` builds only the avow command; `make test` builds
# everything; `make install PREFIX=...` (default /usr/local) builds and installs avow, man pages, completions and
# the library.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo
DEMO ?= demo
PREFIX ?= /usr/local
# The ASan+UBSan build of the unit tests that `make test` also runs (test-san), and the libFuzzer build (fuzz-smoke).
SAN_BUILD ?= $(BUILD)-san
FUZZ_BUILD ?= build-fuzz
FUZZ_CXX ?= clang++-16
FUZZ_SECONDS ?= 60
SAN_SKIP ?= ^(IndexPerf\.|GitStorePerformance\.|LogTiles\.AppendOf14000EntriesIsFast|RecordDsse\.SerializeIsFastEnough|RecordStatement\.PayloadIsFastEnough|HtmlHostile\.DeepNestingIsRefusedQuickly)

.PHONY: all deps configure build avow demo test test-san install bench clean fuzz-build fuzz-smoke

all: build

deps:
	@bash scripts/install-deps

configure: deps
	@cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

avow: configure
	@cmake --build $(BUILD) -j $(JOBS) --target avow

demo: avow
	@bash scripts/demo $(BUILD)/avow $(DEMO)

# A skipped test shows as "Skipped" in ctest's summary; the list after it gives each one's reason.
# Then the unit tests and the fuzz harnesses' seed-corpus replays again, built with ASan and UBSan (test-san).
test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600; rc=$$?; \
	  cmake -DLOG=Testing/Temporary/LastTest.log -P $(CURDIR)/cmake/skip-reasons.cmake; \
	  $(MAKE) --no-print-directory -C $(CURDIR) test-san || rc=1; exit $$rc

# Unit tests (label unit: the gtest unit tests and fuzz.* replays) under AddressSanitizer and UndefinedBehaviorSanitizer
# (any report fails the test), in $(SAN_BUILD), which builds only them. The speed tests (SAN_SKIP) are left out: they
# time optimised code, and ASan's slowdown would fail them without saying anything about memory safety.
test-san: deps
	@cmake -S . -B $(SAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-O1 -g1" \
	  -DAVOW_SANITIZERS=ON -DAVOW_BUILD_BENCH=OFF >/dev/null
	@cmake --build $(SAN_BUILD) -j $(JOBS) --target avow_unit_tests
	@cd $(SAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest -L unit -E '$(SAN_SKIP)' --output-on-failure -j $(JOBS) --timeout 600

# Builds what is installed (not the tests): avow, its man pages and completions, the libraries.
install: configure
	@cmake --build $(BUILD) -j $(JOBS) --target avow avow_docs archive
	@cmake --install $(BUILD) --prefix $(PREFIX)

bench: build
	@bash bench/run $(BUILD)

# libFuzzer targets (tests/fuzz/README.md): clang with ASan and UBSan, only the layers the targets need.
fuzz-build: deps
	@cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=$(FUZZ_CXX) \
	  -DAVOW_FUZZ=ON -DAVOW_BUILD_TESTS=OFF -DAVOW_BUILD_BENCH=OFF >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS) --target avow_fuzz

# Each target FUZZ_SECONDS (default 60) from its seed corpus; crashes are saved in $(FUZZ_BUILD)/fuzz-crashes/.
fuzz-smoke: fuzz-build
	@bash tests/fuzz/run-smoke $(FUZZ_BUILD) $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD) $(SAN_BUILD) $(FUZZ_BUILD) $(DEMO)
