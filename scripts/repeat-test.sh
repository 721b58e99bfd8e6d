#!/usr/bin/env bash
# Runs the whole test suite N times in a row, each time in a fresh clone of the committed HEAD
# (what CI does: a clean clone, `make setup`, `make test`), and stops at the first failure.
#
#   scripts/repeat-test.sh [N]          N defaults to 10
#
# Environment:
#   REPEAT_DIR   where the clones go (default: a new folder under ${TMPDIR:-/tmp}, as on CI)
#   REPEAT_KEEP  1 keeps the clones of passing runs too (a failing run's clone is always kept)
#
# Each run's output goes to <clone>/make-test.log. A crashed run (a fatal signal: "Fatal Python
# error" in the log) is told apart from failing tests in the summary. With core dumps enabled
# (`ulimit -c unlimited` before running this), a crash leaves its core file in the clone.
# Uncommitted changes are not tested: commit first.
set -uo pipefail

runs=${1:-10}
case "$runs" in '' | *[!0-9]*) echo "usage: $0 [N]" >&2; exit 2 ;; esac

repo=$(git -C "$(dirname "$0")/.." rev-parse --path-format=absolute --git-common-dir) || exit 2
commit=$(git -C "$(dirname "$0")/.." rev-parse HEAD) || exit 2
base=${REPEAT_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/eeextract-repeat.XXXXXX")}
mkdir -p "$base"

echo "repeat-test: $runs fresh clone(s) of ${commit:0:12}, under $base"
passed=0
verdict="all passed"
durations=()
for ((i = 1; i <= runs; i++)); do
  dir="$base/run-$i"
  rm -rf "$dir"
  if ! git clone --quiet --no-checkout "$repo" "$dir" || ! git -C "$dir" checkout --quiet --detach "$commit"; then
    verdict="run $i: could not clone"
    break
  fi
  start=$(date +%s)
  (cd "$dir" && make test) >"$dir/make-test.log" 2>&1
  status=$?
  took=$(($(date +%s) - start))
  durations+=("$took")
  summary=$(grep -E '^[0-9]+ (passed|failed)|^=+ .*(passed|failed|error).* =+$' "$dir/make-test.log" | tail -1)
  if [ "$status" -eq 0 ]; then
    passed=$((passed + 1))
    echo "run $i/$runs: passed in ${took}s (${summary:-no pytest summary})"
    if [ "${REPEAT_KEEP:-0}" != 1 ]; then
      # The clone and its QGIS profile (a checkout under /tmp keeps it in ~/.cache: see
      # eeextract_testing/offscreen.py, which names it after the checkout's path).
      profile="$HOME/.cache/eeextract-tests/$(printf %s "$(cd "$dir" && pwd -P)" | sha1sum | cut -c1-12)"
      rm -rf "$dir" "$profile"
    fi
    continue
  fi
  if grep -q "Fatal Python error" "$dir/make-test.log"; then
    verdict="run $i: the test process CRASHED (exit status $status)"
  else
    verdict="run $i: make test failed (exit status $status): ${summary:-see the log}"
  fi
  echo "run $i/$runs: FAILED after ${took}s; the last lines of $dir/make-test.log:"
  tail -n 40 "$dir/make-test.log" | sed 's/^/    /'
  ls "$dir"/core* 2>/dev/null | sed 's/^/    core file: /'
  break
done

echo "repeat-test: $passed of $runs run(s) passed; ${verdict}; durations (s): ${durations[*]:-none}"
[ "$passed" -eq "$runs" ]
