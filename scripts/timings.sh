#!/usr/bin/env bash
# The time budget of `make test`: `scripts/timings.sh begin` marks the start of a run in
# target/make-timings.log, `scripts/timings.sh end` prints the run's total and each step's time and
# share (from the [time] lines scripts/timed.sh wrote since), and fails when the run took longer
# than AIRPROVER_TEST_BUDGET_S seconds (default 3600: CI stops a run at 5400 s, so a step that grew
# is caught here first).
set -euo pipefail
cd "$(dirname "$0")/.."
LOG=target/make-timings.log
BUDGET=${AIRPROVER_TEST_BUDGET_S:-3600}
mkdir -p target
case ${1:-} in
begin)
    echo "$(date -u +%FT%TZ) run-begin $(date +%s)" >>"$LOG"
    ;;
end)
    begin=$(awk '$2 == "run-begin" { t = $3 } END { print t }' "$LOG")
    [ -n "$begin" ] || { echo "timings: no run-begin line in $LOG" >&2; exit 1; }
    total=$(($(date +%s) - begin))
    # The [time] lines since the last run-begin: "DATE LABEL: N s (exit RC)".
    table=$(awk -v total="$total" '
        $2 == "run-begin" { n = 0; next }
        $2 ~ /:$/ && $4 == "s" { label[++n] = substr($2, 1, length($2) - 1); secs[n] = $3 }
        END { for (i = 1; i <= n; i++) printf "[time]   %-22s %5d s  %3d%%\n", label[i], secs[i], 100 * secs[i] / (total > 0 ? total : 1) }
    ' "$LOG")
    summary=$(printf '[time] make test: %d s (%d min %02d s), budget %d s\n%s' "$total" $((total / 60)) $((total % 60)) "$BUDGET" "$table")
    echo "$summary" >>"$LOG"
    echo "$summary" >&2
    if [ "$total" -gt "$BUDGET" ]; then
        echo "make test: $total s, over its budget of $BUDGET s (CI stops at 5400 s): the table above shows which step grew" >&2
        exit 1
    fi
    ;;
*)
    echo "usage: scripts/timings.sh begin|end" >&2
    exit 2
    ;;
esac
