#!/usr/bin/env bash
# Runs a command with clippy's lints applied to every build of the crate it makes
# (scripts/lint-env.sh): `scripts/linted.sh cargo test --profile testing`.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lint-env.sh
source scripts/lint-env.sh
exec "$@"
