#!/usr/bin/env bash
# Runs a command and reports its wall time: `scripts/timed.sh LABEL cmd args...`.
# The line also goes to target/make-timings.log during a `make test` run (AIRPROVER_TIMINGS_RUN,
# set by the Makefile; scripts/timings.sh sums it), else to target/make-steps.log.
set -uo pipefail
label=$1
shift
start=$(date +%s)
"$@"
rc=$?
line="$(date -u +%FT%TZ) $label: $(($(date +%s) - start)) s (exit $rc)"
mkdir -p "$(dirname "$0")/../target"
log=make-steps.log
[ -z "${AIRPROVER_TIMINGS_RUN:-}" ] || log=make-timings.log
echo "$line" >>"$(dirname "$0")/../target/$log"
printf '\033[1m[time]\033[0m %s\n' "$line" >&2
exit $rc
