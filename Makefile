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
	test-wasm-threads test-wasm-single test-interop test-contracts test-browser test-e2e \
	test-vite-consumer demo demo-data app pack serve demo-serve bench clean

tools:
	@$(TIMED) tools scripts/install-tools.sh

build: tools
	@$(TIMED) build-threads scripts/build-wasm.sh threads
	@$(TIMED) build-single scripts/build-wasm.sh single

build-threads: tools
	@$(TIMED) build-threads scripts/build-wasm.sh threads

build-single: tools
	@$(TIMED) build-single scripts/build-wasm.sh single

# Every suite, each thing compiled once, in this order: fmt; the native build of every target
# (profile `testing`, clippy's lints applied as it compiles: scripts/linted.sh) and its tests; per
# wasm flavour the package's release build and its wasm-bindgen tests, which reuse that build;
# then the suites that use the package and the CLI (interop, contracts, browser, e2e, Vite),
# which spawn the native build's CLI. The one-suite targets below are the same steps (each
# builds what it needs, a no-op after `make test`). scripts/timings.sh prints each step's time and
# share at the end, also when a step failed, and fails the run past AIRPROVER_TEST_BUDGET_S (3600 s;
# CI stops at 5400 s). target/make-timings.log holds the last run only.
TEST_SUITES := fmt circom-fixtures test-native test-wasm-threads test-wasm-single test-interop test-contracts \
	test-browser test-e2e test-vite-consumer
test:
	@scripts/timings.sh begin
	@rc=0; AIRPROVER_TIMINGS_RUN=1 $(MAKE) --no-print-directory tools $(TEST_SUITES) || rc=$$?; \
		scripts/timings.sh end $$rc

LINTED := scripts/linted.sh
# The converted-key cache of every CLI the tests spawn: under target/, never the user's
# ~/.cache/airprover (tests that check the cache itself name their own, or --no-zkey-cache).
TEST_ZKEY_CACHE := $(CURDIR)/target/test-zkey-cache
# The CLI and dev_ptau of the native test build: what every JavaScript suite spawns.
TESTING_ENV := AIRPROVER_BIN=$(CURDIR)/target/testing/airprover \
	DEV_PTAU_BIN=$(CURDIR)/target/testing/examples/dev_ptau \
	AIRPROVER_ZKEY_CACHE=$(TEST_ZKEY_CACHE)

.PHONY: fmt native-build build-linted build-threads-linted build-single-linted
fmt:
	@$(TIMED) fmt cargo fmt --check

# Clippy as `make test` runs it (the separate passes: a developer's quick check, slower cold).
lint: tools
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings
	scripts/clippy-wasm.sh

# fault-hooks: the worker's test-only failure injection (Cargo.toml), for the retry tests.
TESTING_CARGO := --profile testing --features fault-hooks
native-build: tools
	@$(TIMED) native-build $(LINTED) cargo build $(TESTING_CARGO) --all-targets --timings

# The circom fixtures the circom tests of every suite share (circuits compiled with circom2, keys
# from snarkjs on a DEVELOPMENT ptau: tests/interop/circom-fixtures.mjs), made once per content in
# target/circom-fixtures/.
.PHONY: circom-fixtures
circom-fixtures: native-build
	@$(TIMED) circom-fixtures bash -c 'npm --prefix tests/interop run --silent pretest && \
		env $(TESTING_ENV) node tests/interop/circom-fixtures.mjs'

# AIRPROVER_REQUIRE_NETNS: tests/multihost.rs fails instead of skipping without namespaces (root).
test-native: native-build circom-fixtures
	@AIRPROVER_REQUIRE_NETNS=1 AIRPROVER_ZKEY_CACHE=$(TEST_ZKEY_CACHE) $(TIMED) test-native $(LINTED) cargo test $(TESTING_CARGO)

build-threads-linted: tools
	@$(TIMED) build-threads $(LINTED) scripts/build-wasm.sh threads --timings

build-single-linted: tools
	@$(TIMED) build-single $(LINTED) scripts/build-wasm.sh single --timings

build-linted: build-threads-linted build-single-linted

test-wasm: test-wasm-threads test-wasm-single

# native-build: the circom fixtures the browser tests embed need its dev_ptau (scripts/test-wasm.sh).
test-wasm-threads: build-threads-linted native-build
	@$(TIMED) test-wasm-threads $(LINTED) scripts/test-wasm.sh threads

test-wasm-single: build-single-linted native-build
	@$(TIMED) test-wasm-single $(LINTED) scripts/test-wasm.sh single

# Real peers check what the CLI writes: circomlibjs, snarkjs (tests/interop/README.md); the
# ceremony test checks imported keys on anvil with contracts/lib, hence contracts/'s packages.
test-interop: native-build circom-fixtures
	@$(TIMED) test-interop bash -c 'npm --prefix contracts run --silent pretest && \
		env $(TESTING_ENV) npm --prefix tests/interop test'

# Solidity on a real EVM: contracts/ compiled with solcjs, anvil on 127.0.0.1, proofs made by the
# native CLI (`npm test` installs contracts/'s locked packages when they are missing), and
# snarkjs's own verifiers of the circom fixtures.
test-contracts: native-build circom-fixtures
	@$(TIMED) test-contracts env $(TESTING_ENV) npm --prefix contracts test

# The runtime in Chromium with real Workers (tests/browser): both wasm builds and the CLI (which
# makes the development keys the tests prove with); the circom fixtures' proofs go on anvil with
# contracts/lib, hence contracts/'s packages.
test-browser: native-build build-linted circom-fixtures
	@$(TIMED) test-browser bash -c 'npm --prefix contracts run --silent pretest && \
		env $(TESTING_ENV) npm --prefix tests/browser test'

# The claim app (www/dist) in Chromium, with the demo's keys and campaign made by the test CLI.
test-e2e: native-build build-linted
	@$(MAKE) --no-print-directory $(TESTING_ENV) demo-data app
	@$(TIMED) test-e2e env $(TESTING_ENV) DEMO_CHAIN_CIRCUIT=$(DEMO_CHAIN_CIRCUIT) npm --prefix tests/e2e test

# The npm package as `npm pack` writes it (scripts/npm-package.mjs wrote pkg/package.json).
pack: build
	scripts/pack.sh

# The package from its tarball in a minimal Vite app outside the repository (tests/vite-consumer).
test-vite-consumer: native-build build-linted
	@$(TIMED) pack scripts/pack.sh
	@$(TIMED) test-vite-consumer env $(TESTING_ENV) npm --prefix tests/vite-consumer test

# The demo's DEVELOPMENT keys and campaign from the CLI (deterministic with SEED), regenerated
# when the CLI binary or the settings change: keys in www/public/keys, the sample tree and claim
# in www/public/campaign (Vite copies public/ into the build).
DEMO_STAMP := $(DEMO_DIR)/.demo-data-bound-$(SEED)-$(DEMO_ATTESTATIONS)-$(shell echo $(DEMO_CIRCUITS) | tr " " +)
# The CLI that makes them: AIRPROVER_BIN when set (make test sets it to the binary its native
# build made), else the release build.
AIRPROVER_BIN ?= target/release/airprover
demo-data: tools
	@if [ "$(AIRPROVER_BIN)" = target/release/airprover ]; then \
		$(TIMED) cli-build cargo build --release --bin airprover; fi
	@$(MAKE) --no-print-directory $(DEMO_STAMP)

$(DEMO_STAMP): $(AIRPROVER_BIN)
	rm -rf $(DEMO_DIR)/keys $(DEMO_DIR)/campaign $(DEMO_DIR)/.demo-data-*
	mkdir -p $(DEMO_DIR)/keys $(DEMO_DIR)/campaign
	for c in $(DEMO_CIRCUITS); do \
		$(TIMED) cli-setup $(AIRPROVER_BIN) setup --circuit $$c --out $(DEMO_DIR)/keys --seed $(SEED); \
	done
	campaign=$$($(AIRPROVER_BIN) campaign-id --chain-id $(DEMO_CHAIN_ID) \
		--deployer $(DEMO_DEPLOYER) --nonce $(DEMO_AIRDROP_NONCE)); \
	$(TIMED) cli-sample $(AIRPROVER_BIN) sample --circuit $(DEMO_SAMPLE_CIRCUIT) \
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
# prover `worker` (task inputs sealed with a fresh sealing key, $(DEMO_STATE)/sealing.key); serves
# www/dist with COOP/COEP, and stops all of them when the server stops.
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
	target/release/airprover sealing-key new --out $(DEMO_STATE)/sealing.key
	@set -m; anvil=$$(node -p "require('./www/dist/chain.json').anvilPid"); \
	redis-server service/redis.conf --port $(DEMO_REDIS_PORT) --dir $(CURDIR)/$(DEMO_STATE)/redis >/dev/null & redis=$$!; \
	trap 'kill $$anvil $$redis $$srv $$relay $$prover 2>/dev/null; wait' EXIT INT TERM; \
	until redis-cli -p $(DEMO_REDIS_PORT) ping >/dev/null 2>&1; do sleep 0.1; done; \
	url=redis://127.0.0.1:$(DEMO_REDIS_PORT)/; \
	target/release/airprover serve --redis $$url --keys $(DEMO_DIR)/keys --listen $(HOST):$(SERVICE_PORT) \
		--sealing-key $(DEMO_STATE)/sealing.key --campaigns $(DEMO_STATE)/campaigns.json --cors-origin http://$(HOST):$(PORT) & srv=$$!; \
	target/release/airprover relay --redis $$url --campaigns $(DEMO_STATE)/campaigns.json --id demo-relay & relay=$$!; \
	target/release/airprover worker --redis $$url --keys $(DEMO_DIR)/keys --id demo-worker --state $(DEMO_STATE)/worker \
		--sealing-key $(DEMO_STATE)/sealing.key & prover=$$!; \
	echo "airprover demo on http://$(HOST):$(PORT)/  (local chain: pid $$anvil on port $(ANVIL_PORT); relayer and prover service on http://$(HOST):$(SERVICE_PORT); Ctrl-C stops all)"; \
	node www/serve.mjs --host $(HOST) --port $(PORT) www/dist target/demo-extra

# The prover service on this machine: Redis (service/redis.conf, data in target/service), one
# `airprover serve` on 127.0.0.1:$(SERVICE_PORT) and two workers, with the demo's DEVELOPMENT keys;
# task inputs sealed with target/service/sealing.key (made on first run, kept with the Redis data).
# Ctrl-C stops all of them.
SERVICE_PORT ?= 8787
REDIS_PORT ?= 6379
serve: demo-data
	mkdir -p target/service
	test -f target/service/sealing.key || target/release/airprover sealing-key new --out target/service/sealing.key
	@set -m; redis-server service/redis.conf --port $(REDIS_PORT) --dir $(CURDIR)/target/service & redis=$$!; \
	trap 'kill $$redis $$w1 $$w2 $$srv 2>/dev/null; wait' EXIT INT TERM; \
	until redis-cli -p $(REDIS_PORT) ping >/dev/null 2>&1; do sleep 0.1; done; \
	url=redis://127.0.0.1:$(REDIS_PORT)/; \
	target/release/airprover worker --redis $$url --keys $(DEMO_DIR)/keys --id worker-1 --state target/service/worker-1 --sealing-key target/service/sealing.key & w1=$$!; \
	target/release/airprover worker --redis $$url --keys $(DEMO_DIR)/keys --id worker-2 --state target/service/worker-2 --sealing-key target/service/sealing.key & w2=$$!; \
	echo "airprover service on http://127.0.0.1:$(SERVICE_PORT) (Redis on $(REDIS_PORT), two workers; Ctrl-C stops all)"; \
	target/release/airprover serve --redis $$url --keys $(DEMO_DIR)/keys --listen 127.0.0.1:$(SERVICE_PORT) \
		--sealing-key target/service/sealing.key & srv=$$!; \
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

.PHONY: bench-simd-mont
# The field product alone in Chromium, scalar vs wasm simd128 (issue 32; README, "How the browser
# build is fast"): two tiny wasm builds of benches/simd-mont, seconds each.
bench-simd-mont:
	cd benches/simd-mont && cargo build --release --target wasm32-unknown-unknown --target-dir ../../target/simd-mont/scalar
	cd benches/simd-mont && RUSTFLAGS='-C target-feature=+simd128' cargo build --release --target wasm32-unknown-unknown --target-dir ../../target/simd-mont/simd
	node benches/simd-mont/run.mjs

# Side by side in one run (benches/browser/run.mjs): airprover natively (1 thread, all threads),
# both wasm builds in headless Chromium through the package's worker, and snarkjs 0.7.6 in the
# same Chromium on the same statements (circom, compiled with circom2; powers of tau and zkeys made
# locally and cached in target/bench-browser/), and the same-key rows: airprover on snarkjs's own
# zkey and witness wasm (threshold-d20-k8's circom circuit), through its public API interleaved
# with snarkjs in one page, and natively (`prove --zkey`) beside rapidsnark where
# benches/rapidsnark/build.sh built it. Writes target/bench/browser.json,
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
