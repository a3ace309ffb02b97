#!/usr/bin/env bash
# The time budget of `make test`.
#
#   scripts/timings.sh begin       start a run: target/make-timings.log then holds this run only
#                                  (the previous run's log moves to make-timings.prev.log)
#   scripts/timings.sh end [RC]    the run's total and each step's time and share, from the lines
#                                  scripts/timed.sh wrote since (RC: make's exit status)
#
# `end` fails when the steps failed (RC) or when the run took longer than AIRPROVER_TEST_BUDGET_S
# seconds (default 3600: CI stops a cold run, tool install included, at 5400 s, so a step that
# grew is caught here first). Steps run outside `make test` log to target/make-steps.log, never
# into a run's log (scripts/timed.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
LOG=target/make-timings.log
BUDGET=${AIRPROVER_TEST_BUDGET_S:-3600}
mkdir -p target
case ${1:-} in
begin)
    [ ! -f "$LOG" ] || mv "$LOG" target/make-timings.prev.log
    echo "$(date -u +%FT%TZ) run-begin $(date +%s)" >"$LOG"
    ;;
end)
    rc=${2:-0}
    begin=$(awk '$2 == "run-begin" { print $3; exit }' "$LOG")
    [ -n "$begin" ] || { echo "timings: no run-begin line in $LOG" >&2; exit 1; }
    total=$(($(date +%s) - begin))
    # The steps: "DATE LABEL: N s (exit RC)".
    table=$(awk -v total="$total" '
        $2 ~ /:$/ && $4 == "s" { label[++n] = substr($2, 1, length($2) - 1); secs[n] = $3 }
        END { for (i = 1; i <= n; i++) printf "[time]   %-22s %5d s  %3d%%\n", label[i], secs[i], 100 * secs[i] / (total > 0 ? total : 1) }
    ' "$LOG")
    outcome=passed
    [ "$rc" = 0 ] || outcome="FAILED (exit $rc)"
    summary=$(printf '%s run-end: make test %s in %d s (%d min %02d s), budget %d s\n%s' \
        "$(date -u +%FT%TZ)" "$outcome" "$total" $((total / 60)) $((total % 60)) "$BUDGET" "$table")
    echo "$summary" >>"$LOG"
    echo "$summary" >&2
    [ "$rc" = 0 ] || exit "$rc"
    if [ "$total" -gt "$BUDGET" ]; then
        echo "make test: $total s, over its budget of $BUDGET s (CI stops at 5400 s): the table above shows which step grew" >&2
        exit 1
    fi
    ;;
*)
    echo "usage: scripts/timings.sh begin | end [RC]" >&2
    exit 2
    ;;
esac
