# ssiuml: `make demo` sets up and starts a 3-node demo cluster, `make test`
# sets up and runs every test. Both install missing Debian packages first.
BUILD   ?= build
PREFIX  ?= /usr/local
TYPE    ?= RelWithDebInfo
JOBS    ?= $(shell nproc)
BIN      = $(BUILD)/bin

.PHONY: all deps configure build demo test install bench clean

all: build

deps:
	@scripts/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(TYPE) -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

demo: build
	@if $(BIN)/ssi-status --cluster demo | grep -q 'not running'; then \
	  $(BIN)/ssi-start --cluster demo 3; \
	fi
	@$(BIN)/ssi-status --cluster demo
	@echo "Try: $(BIN)/ssi-exec --cluster demo 1 -- ping -c 3 node2"
	@echo "     $(BIN)/ssi-rm --cluster demo 2; $(BIN)/ssi-stop --cluster demo"

test: build
	@cd $(BUILD) && ctest --output-on-failure --timeout 600

install: build
	@cmake --install $(BUILD) --prefix $(PREFIX)

bench: build
	@bench/boot.sh

clean:
	rm -rf $(BUILD)
