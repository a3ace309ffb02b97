# airprover: native crate, two wasm builds (threaded, single-threaded), tests, demo.
#
#   make tools   install what the rest needs (idempotent; skips what is present)
#   make build   pkg/threads/ and pkg/single/ with wasm-pack, plus the worker JS in pkg/
#   make test    fmt, clippy, native tests, browser tests of both builds, interop and e2e
#   make demo    build the package, keys, the demo campaign and the claim app (www/), start a
#                local chain (anvil), serve the app on http://127.0.0.1:8080
#   make serve   the prover service: Redis, `airprover serve` on 127.0.0.1:8787 and two workers
#   make pack    the npm package as a tarball: target/npm/airprover-<version>.tgz
#   make bench   native proving benchmark
#   make bench-server   the prover service (Redis, serve, 1 and 2 workers): throughput, latency, overhead
#   make bench-browser   airprover (native, both wasm builds) against snarkjs in Chromium, README's ## Speed
#
# Every step prints its wall time ([time] lines, also in target/make-timings.log).
# The flags of each wasm build are in scripts/wasm-flavour.sh.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := build

SEED ?= 1
HOST ?= 127.0.0.1
PORT ?= 8080
ANVIL_PORT ?= 8545
# The demo's circuits (DEVELOPMENT keys from SEED), its campaign (a sample tree of
# DEMO_ATTESTATIONS attestations, with a claim of up to 8 of them) and the circuit whose verifier
# the local chain's airdrop uses (the one the app auto-chooses for the demo identity).
DEMO_CIRCUITS ?= threshold-d20-k4 threshold-d20-k8
DEMO_SAMPLE_CIRCUIT ?= threshold-d20-k8
DEMO_CHAIN_CIRCUIT ?= threshold-d20-k4
DEMO_ATTESTATIONS ?= 10000
# The demo claim's campaign id is that of the airdrop deploy-local puts on a fresh anvil (chain
# 31337, its public account 0 deploying the verifier, the token, then the airdrop with nonce 2):
# ReputationAirdrop accepts only its own deployment's id.
DEMO_CHAIN_ID := 31337
DEMO_DEPLOYER := 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266
DEMO_AIRDROP_NONCE := 2
export CHROMEDRIVER ?= /usr/bin/chromedriver

TIMED := scripts/timed.sh
DEMO_DIR := www/public

.PHONY: tools build build-threads build-single test lint test-native test-wasm \
	test-wasm-threads test-wasm-single test-interop test-e2e test-vite-consumer demo demo-data app \
	pack serve demo-serve bench clean

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
	@$(MAKE) --no-print-directory test-vite-consumer

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
		$(MAKE) --no-print-directory demo-data app && \
		DEMO_CHAIN_CIRCUIT=$(DEMO_CHAIN_CIRCUIT) $(TIMED) test-e2e npm --prefix tests/e2e test; \
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

# The npm package as `npm pack` writes it (scripts/npm-package.mjs wrote pkg/package.json).
pack: build
	node scripts/npm-package.mjs --check
	mkdir -p target/npm
	npm pack --silent --pack-destination target/npm ./pkg

# The package from its tarball in a minimal Vite app outside the repository (tests/vite-consumer).
test-vite-consumer: pack cli-fixture-build
	@$(TIMED) test-vite-consumer npm --prefix tests/vite-consumer test

.PHONY: cli-fixture-build
cli-fixture-build:
	@$(TIMED) cli-build cargo build --release --bin airprover

# The demo's DEVELOPMENT keys and campaign from the CLI (deterministic with SEED), regenerated
# when the CLI binary or the settings change: keys in www/public/keys, the sample tree and claim
# in www/public/campaign (Vite copies public/ into the build).
DEMO_STAMP := $(DEMO_DIR)/.demo-data-bound-$(SEED)-$(DEMO_ATTESTATIONS)-$(shell echo $(DEMO_CIRCUITS) | tr " " +)
demo-data: tools
	@$(TIMED) cli-build cargo build --release --bin airprover
	@$(MAKE) --no-print-directory $(DEMO_STAMP)

$(DEMO_STAMP): target/release/airprover
	rm -rf $(DEMO_DIR)/keys $(DEMO_DIR)/campaign $(DEMO_DIR)/.demo-data-*
	mkdir -p $(DEMO_DIR)/keys $(DEMO_DIR)/campaign
	for c in $(DEMO_CIRCUITS); do \
		$(TIMED) cli-setup target/release/airprover setup --circuit $$c --out $(DEMO_DIR)/keys --seed $(SEED); \
	done
	campaign=$$(target/release/airprover campaign-id --chain-id $(DEMO_CHAIN_ID) \
		--deployer $(DEMO_DEPLOYER) --nonce $(DEMO_AIRDROP_NONCE)); \
	$(TIMED) cli-sample target/release/airprover sample --circuit $(DEMO_SAMPLE_CIRCUIT) \
		--attestations $(DEMO_ATTESTATIONS) --out $(DEMO_DIR)/campaign/claim.json --seed $(SEED) \
		--campaign $$campaign
	touch $@

# The claim app (www/, Svelte + Vite) built into www/dist against the package in pkg/.
app: tools
	@$(TIMED) app-build npm --prefix www run build -- --logLevel warn

demo: build demo-data app
	@$(MAKE) --no-print-directory demo-serve

# Starts anvil on 127.0.0.1:$(ANVIL_PORT) with the demo campaign deployed (chain.json next to the
# app), then the service the app claims through: a fresh Redis (the chain is fresh too, so no
# stale nonces) on $(DEMO_REDIS_PORT), `airprover serve` on $(HOST):$(SERVICE_PORT) with the
# demo campaign's relayer (anvil's funded DEVELOPMENT account #1), one `airprover relay` and one
# prover `worker`; serves www/dist with COOP/COEP, and stops all of them when the server stops.
# The package itself is also served under /pkg/ and the sample claim as /claim.json, for the
# README's console example.
DEMO_STATE := target/demo
DEMO_REDIS_PORT ?= 6381
demo-serve:
	mkdir -p target/demo-extra
	rm -rf $(DEMO_STATE) && mkdir -p $(DEMO_STATE)/redis
	ln -sfn $(CURDIR)/pkg target/demo-extra/pkg
	cp $(DEMO_DIR)/campaign/claim.json target/demo-extra/claim.json
	node contracts/scripts/deploy-local.mjs --keys $(DEMO_DIR)/keys --circuit $(DEMO_CHAIN_CIRCUIT) \
		--claim $(DEMO_DIR)/campaign/claim.json --port $(ANVIL_PORT) --out www/dist/chain.json --detach \
		--relayer-url http://$(HOST):$(SERVICE_PORT) --campaigns $(DEMO_STATE)/campaigns.json \
		--relayer-key-file $(DEMO_STATE)/relayer.key
	@set -m; anvil=$$(node -p "require('./www/dist/chain.json').anvilPid"); \
	redis-server service/redis.conf --port $(DEMO_REDIS_PORT) --dir $(CURDIR)/$(DEMO_STATE)/redis >/dev/null & redis=$$!; \
	trap 'kill $$anvil $$redis $$srv $$relay $$prover 2>/dev/null; wait' EXIT INT TERM; \
	until redis-cli -p $(DEMO_REDIS_PORT) ping >/dev/null 2>&1; do sleep 0.1; done; \
	url=redis://127.0.0.1:$(DEMO_REDIS_PORT)/; \
	target/release/airprover serve --redis $$url --keys $(DEMO_DIR)/keys --listen $(HOST):$(SERVICE_PORT) \
		--campaigns $(DEMO_STATE)/campaigns.json --cors-origin http://$(HOST):$(PORT) & srv=$$!; \
	target/release/airprover relay --redis $$url --campaigns $(DEMO_STATE)/campaigns.json --id demo-relay & relay=$$!; \
	target/release/airprover worker --redis $$url --keys $(DEMO_DIR)/keys --id demo-worker --state $(DEMO_STATE)/worker & prover=$$!; \
	echo "airprover demo on http://$(HOST):$(PORT)/  (local chain: pid $$anvil on port $(ANVIL_PORT); relayer and prover service on http://$(HOST):$(SERVICE_PORT); Ctrl-C stops all)"; \
	node www/serve.mjs --host $(HOST) --port $(PORT) www/dist target/demo-extra

# The prover service on this machine: Redis (service/redis.conf, data in target/service), one
# `airprover serve` on 127.0.0.1:$(SERVICE_PORT) and two workers, with the demo's DEVELOPMENT keys.
# Ctrl-C stops all of them.
SERVICE_PORT ?= 8787
REDIS_PORT ?= 6379
serve: demo-data
	mkdir -p target/service
	@set -m; redis-server service/redis.conf --port $(REDIS_PORT) --dir $(CURDIR)/target/service & redis=$$!; \
	trap 'kill $$redis $$w1 $$w2 $$srv 2>/dev/null; wait' EXIT INT TERM; \
	until redis-cli -p $(REDIS_PORT) ping >/dev/null 2>&1; do sleep 0.1; done; \
	url=redis://127.0.0.1:$(REDIS_PORT)/; \
	target/release/airprover worker --redis $$url --keys $(DEMO_DIR)/keys --id worker-1 --state target/service/worker-1 & w1=$$!; \
	target/release/airprover worker --redis $$url --keys $(DEMO_DIR)/keys --id worker-2 --state target/service/worker-2 & w2=$$!; \
	echo "airprover service on http://127.0.0.1:$(SERVICE_PORT) (Redis on $(REDIS_PORT), two workers; Ctrl-C stops all)"; \
	target/release/airprover serve --redis $$url --keys $(DEMO_DIR)/keys --listen 127.0.0.1:$(SERVICE_PORT) & srv=$$!; \
	wait $$srv

bench: tools
	@$(TIMED) bench cargo bench --bench prove

# The prover service as it runs (examples/bench_server.rs): Redis, `serve` and one then two
# workers on this machine; proofs per second, latency p50/p95 and the service's own overhead per
# task, for threshold-d4-k2 and threshold-d20-k8; then the claim relayer on anvil (1 and 2 relay
# workers): claims per second and POST-to-confirmed latency. Writes target/bench/server.json. Not part of
# `make test`.
.PHONY: bench-server
bench-server: tools
	@$(TIMED) bench-build cargo build --release --bin airprover --example bench_server
	@$(TIMED) bench-server target/release/examples/bench_server

# Side by side in one run (benches/browser/run.mjs): airprover natively (1 thread, all threads),
# both wasm builds in headless Chromium through the package's worker, and snarkjs 0.7.6 in the
# same Chromium on the same statements (circom, compiled with circom2; powers of tau and zkeys made
# locally and cached in target/bench-browser/). Writes target/bench/browser.json,
# docs/bench-speed.svg and README.md's `## Speed` section. Not part of `make test`.
.PHONY: bench-browser
bench-browser: build
	@$(TIMED) bench-build cargo build --release --bin airprover --example bench_native --example dev_ptau
	@cd benches/browser && sum=$$(sha256sum package-lock.json | cut -d' ' -f1) && \
		if [ "$$(cat node_modules/.airprover-npm-ci 2>/dev/null)" != "$$sum" ]; then \
			npm ci --no-audit --no-fund && echo "$$sum" > node_modules/.airprover-npm-ci; fi
	@$(TIMED) bench-browser node benches/browser/run.mjs

clean:
	rm -rf pkg $(DEMO_DIR)/pkg www/dist target/npm target/wasm-threads target/wasm-single
