# airprover: native crate, two wasm builds (threaded, single-threaded), tests, demo.
#
#   make tools   install what the rest needs (idempotent; skips what is present)
#   make build   pkg/threads/ and pkg/single/ with wasm-pack, plus the worker JS in pkg/
#   make test    fmt, clippy, native tests, browser tests of both builds, interop and e2e
#   make demo    build, generate keys and a claim, serve www/ on http://127.0.0.1:8080
#   make bench   native proving benchmark
#
# Every step prints its wall time ([time] lines, also in target/make-timings.log).
# The flags of each wasm build are in scripts/wasm-flavour.sh.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := build

CIRCUIT ?= threshold-d20-k8
SEED ?= 1
HOST ?= 127.0.0.1
PORT ?= 8080
export CHROMEDRIVER ?= /usr/bin/chromedriver

TIMED := scripts/timed.sh
DEMO_DIR := www/public

.PHONY: tools build build-threads build-single test lint test-native test-wasm \
	test-wasm-threads test-wasm-single test-interop test-e2e demo demo-data serve bench clean

tools:
	@$(TIMED) tools scripts/install-tools.sh

build: tools
	@$(TIMED) build-threads scripts/build-wasm.sh threads
	@$(TIMED) build-single scripts/build-wasm.sh single

build-threads: tools
	@$(TIMED) build-threads scripts/build-wasm.sh threads

build-single: tools
	@$(TIMED) build-single scripts/build-wasm.sh single

test: tools
	@$(TIMED) fmt cargo fmt --check
	@$(TIMED) clippy cargo clippy --all-targets -- -D warnings
	@$(TIMED) clippy-wasm scripts/clippy-wasm.sh
	@$(TIMED) test-native cargo test --release
	@$(TIMED) test-wasm-threads scripts/test-wasm.sh threads
	@$(TIMED) test-wasm-single scripts/test-wasm.sh single
	$(run-interop)
	@$(TIMED) test-contracts npm --prefix contracts test
	@$(MAKE) --no-print-directory test-browser
	$(run-e2e)

lint: tools
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings
	scripts/clippy-wasm.sh

test-native: tools
	@$(TIMED) test-native cargo test --release

test-wasm: test-wasm-threads test-wasm-single

test-wasm-threads: tools
	@$(TIMED) test-wasm-threads scripts/test-wasm.sh threads

test-wasm-single: tools
	@$(TIMED) test-wasm-single scripts/test-wasm.sh single

# Hooks for the interop and end-to-end suites: each runs when its directory has a package.json
# (the owners of tests/interop and tests/e2e fill these in). End-to-end tests drive the pages, so
# they need `make build` first.
define run-interop
	@if [ -f tests/interop/package.json ]; then \
		$(TIMED) test-interop npm --prefix tests/interop test; \
	else echo "test-interop: no tests/interop/package.json yet, skipped"; fi
endef
define run-e2e
	@if [ -f tests/e2e/package.json ]; then \
		$(TIMED) build-threads scripts/build-wasm.sh threads && \
		$(TIMED) build-single scripts/build-wasm.sh single && \
		$(TIMED) test-e2e npm --prefix tests/e2e test; \
	else echo "test-e2e: no tests/e2e/package.json yet, skipped"; fi
endef

test-interop: tools
	$(run-interop)

test-e2e: tools
	$(run-e2e)

# The runtime in Chromium with real Workers (tests/browser): both wasm builds and the CLI (which
# makes the development keys the tests prove with).
.PHONY: test-browser
test-browser: tools
	@$(TIMED) build-threads scripts/build-wasm.sh threads
	@$(TIMED) build-single scripts/build-wasm.sh single
	@$(TIMED) cli-build cargo build --release --bin airprover
	@$(TIMED) test-browser npm --prefix tests/browser test

# Solidity on a real EVM: contracts/ compiled with solcjs, anvil on 127.0.0.1, proofs made by the
# native CLI (`npm test` installs contracts/'s locked packages when they are missing).
.PHONY: test-contracts
test-contracts: tools
	@$(TIMED) test-contracts npm --prefix contracts test

# Development keys and a sample claim from the CLI (deterministic with SEED), regenerated when
# the CLI binary changes.
demo-data: tools
	@$(TIMED) cli-build cargo build --release --bin airprover
	@$(MAKE) --no-print-directory $(DEMO_DIR)/.demo-data-$(CIRCUIT)-$(SEED)

$(DEMO_DIR)/.demo-data-$(CIRCUIT)-$(SEED): target/release/airprover
	mkdir -p $(DEMO_DIR)/keys
	$(TIMED) cli-setup target/release/airprover setup --circuit $(CIRCUIT) --out $(DEMO_DIR)/keys --seed $(SEED)
	$(TIMED) cli-sample target/release/airprover sample --circuit $(CIRCUIT) --out $(DEMO_DIR)/claim.json --seed $(SEED)
	touch $@

demo: build demo-data
	@$(MAKE) --no-print-directory serve

# Serves www/ (then www/public/, as Vite does) with COOP/COEP, the wasm builds under /pkg/.
serve:
	rm -rf $(DEMO_DIR)/pkg
	mkdir -p $(DEMO_DIR)
	cp -r pkg $(DEMO_DIR)/pkg
	@echo "airprover demo on http://$(HOST):$(PORT)/"
	node www/serve.mjs --host $(HOST) --port $(PORT) www $(DEMO_DIR)

bench: tools
	@$(TIMED) bench cargo bench --bench prove

clean:
	rm -rf pkg $(DEMO_DIR)/pkg target/wasm-threads target/wasm-single
