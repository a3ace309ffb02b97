#!/usr/bin/env bash
# Runs a command and reports its wall time: `scripts/timed.sh LABEL cmd args...`.
# The line also goes to target/make-timings.log, so that a `make test` run can be summarised.
set -uo pipefail
label=$1
shift
start=$(date +%s)
"$@"
rc=$?
line="$(date -u +%FT%TZ) $label: $(($(date +%s) - start)) s (exit $rc)"
mkdir -p "$(dirname "$0")/../target"
echo "$line" >>"$(dirname "$0")/../target/make-timings.log"
printf '\033[1m[time]\033[0m %s\n' "$line" >&2
exit $rc
