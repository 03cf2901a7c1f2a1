#!/bin/bash
# Benchmark of issue 17, item 2 (run on demand, not a test): test executions, wall time and flaky
# set found of `flakescope audit --runs auto --isolation inprocess` against
# `pytest --flake-finder --flake-runs=200` (pytest-flakefinder), side by side in one run, on
#   1. the generated 300-test suite (generate_suite.py; SCALE=0.2 for a reduced run), and
#   2. optionally a real suite: REAL_SUITE="DIR TESTPATH" (the test path relative to DIR).
# Any measured command that fails to run (exit other than 0/1) fails the benchmark.
#   usage: bench/suite_allocation/run_bench.sh BUILD_DIR OUT_DIR
set -euo pipefail
build=$(cd "$1" && pwd) out=$2
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
py=/usr/bin/python3
mkdir -p "$out"
out=$(cd "$out" && pwd)
"$py" -c "import pytest_flakefinder" 2>/dev/null ||
  { echo "pytest-flakefinder is not installed: $py -m pip install --break-system-packages pytest-flakefinder" >&2; exit 2; }

# measure NAME DIR TESTPATH: both tools on one suite; prints one JSON line into $out/NAME.json.
measure() {
  local name=$1 dir=$2 tests=$3 rc
  local t0 t1 t2
  t0=$(date +%s.%N)
  set +e
  (cd "$dir" && "$build/flakescope" audit --runs auto --isolation inprocess --jobs "${JOBS:-1}" \
     --out "$out/$name-audit.json" -- "$py" -m pytest -q -p no:cacheprovider $tests) \
     >"$out/$name-audit.out" 2>&1
  rc=$?
  set -e
  [ $rc -le 1 ] || { tail -5 "$out/$name-audit.out" >&2; echo "audit failed ($rc)" >&2; exit 1; }
  t1=$(date +%s.%N)
  set +e
  (cd "$dir" && "$py" -m pytest -q -p no:cacheprovider --flake-finder \
     --flake-runs=200 --junitxml="$out/$name-flakefinder.xml" $tests) >"$out/$name-flakefinder.out" 2>&1
  rc=$?
  set -e
  [ $rc -le 1 ] || { tail -5 "$out/$name-flakefinder.out" >&2; echo "flakefinder failed ($rc)" >&2; exit 1; }
  t2=$(date +%s.%N)
  "$py" "$here/compare.py" "$name" "$out/$name-audit.json" "$out/$name-flakefinder.xml" \
    "$(echo "$t1 - $t0" | bc)" "$(echo "$t2 - $t1" | bc)" "${4:-}" | tee "$out/$name.json"
}

suite="$out/generated"
rm -rf "$suite"
"$py" "$here/generate_suite.py" "$suite" --scale "${SCALE:-1}"
measure generated "$suite" . "$suite/expected.json"
if [ -n "${REAL_SUITE:-}" ]; then
  read -r real_dir real_tests <<<"$REAL_SUITE"
  measure real "$real_dir" "$real_tests"
fi
