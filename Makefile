# ssiuml: `make demo` sets up and starts a 3-node demo cluster, `make test`
# sets up and runs every test. Both install missing Debian packages first.
BUILD   ?= build
ASAN    ?= build-asan
FUZZ    ?= build-fuzz
PREFIX  ?= /usr/local
TYPE    ?= RelWithDebInfo
JOBS    ?= $(shell nproc)
# Unity builds halve a clean build on two cores; UNITY=OFF for quicker rebuilds of one file.
UNITY   ?= ON
BIN      = $(BUILD)/bin

.PHONY: all deps configure build debian-root demo test test-plain test-asan test-fuzz install bench clean

all: build

deps:
	@scripts/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(TYPE) -DCMAKE_UNITY_BUILD=$(UNITY) -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

# The optional Debian 12 root, build/share/ssiuml/debian-root.img; needs root.
# PACKAGES=a,b adds Debian packages to its defaults.
debian-root: build
	@cmake -S . -B $(BUILD) -DDEBIAN_PACKAGES=$(PACKAGES) >/dev/null
	@cmake --build $(BUILD) --target debian-root

demo: build
	@if $(BIN)/ssi-status --cluster demo | grep -q 'not running'; then \
	  $(BIN)/ssi-start --cluster demo 3; \
	fi
	@$(BIN)/ssi-status --cluster demo
	@echo "Try: $(BIN)/ssi-exec --cluster demo 1 -- ping -c 3 node2"
	@echo "     $(BIN)/ssi-rm --cluster demo 2; $(BIN)/ssi-stop --cluster demo"

# Every test, plain or under ASan+UBSan, then the fuzz targets from their
# committed corpus. Any failure or sanitizer finding fails the run.
# The clusters of the integration tests (label `cluster`) boot once, in the
# sanitized build, where a memory error of ssid or a daemon shows: on two
# cores a second, plain pass took a quarter of the run. The plain build boots
# clusters in the soak and the Debian root's tests, which run plain only: ASan's
# quarantine makes the soak's memory figures noise, and the Debian tests would
# only debootstrap again. `make test-plain` alone runs everything plain.
test:
	@$(MAKE) --no-print-directory test-plain PLAIN_SKIP='--label-exclude ^cluster$$'
	@$(MAKE) --no-print-directory test-asan test-fuzz

test-plain: build
	@cd $(BUILD) && ctest --output-on-failure --timeout 600 $(PLAIN_SKIP)

test-asan: deps
	@cmake -S . -B $(ASAN) -DCMAKE_BUILD_TYPE=$(TYPE) -DCMAKE_UNITY_BUILD=$(UNITY) -DSSIUML_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN) -j $(JOBS)
	@cd $(ASAN) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure --timeout 600 --exclude-regex '^soak:|^integration:debian_'

test-fuzz: deps
	@CC=clang CXX=clang++ cmake -S . -B $(FUZZ) -DCMAKE_BUILD_TYPE=$(TYPE) -DCMAKE_UNITY_BUILD=$(UNITY) -DSSIUML_FUZZ=ON >/dev/null
	@cmake --build $(FUZZ) -j $(JOBS) --target fuzz-targets
	@cd $(FUZZ) && ctest -L fuzz --output-on-failure

install: build
	@cmake --install $(BUILD) --prefix $(PREFIX)

bench: build
	@bench/boot.sh

clean:
	rm -rf $(BUILD) $(ASAN) $(FUZZ)
