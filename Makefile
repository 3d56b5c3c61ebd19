# Quick start: `make demo` and `make test` (see README.md). Each installs missing Debian packages,
# configures and builds what it needs, then runs. `make demo` builds only the avow command; `make test` builds
# everything; `make install PREFIX=...` (default /usr/local) builds and installs avow, man pages, completions and
# the library.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo
DEMO ?= demo
PREFIX ?= /usr/local

.PHONY: all deps configure build avow demo test install bench clean

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
test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600; rc=$$?; \
	  cmake -DLOG=Testing/Temporary/LastTest.log -P $(CURDIR)/cmake/skip-reasons.cmake; exit $$rc

# Builds what is installed (not the tests): avow, its man pages and completions, the libraries.
install: configure
	@cmake --build $(BUILD) -j $(JOBS) --target avow avow_docs archive
	@cmake --install $(BUILD) --prefix $(PREFIX)

bench: build
	@bash bench/run $(BUILD)

clean:
	rm -rf $(BUILD) $(DEMO)
