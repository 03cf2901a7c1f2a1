#!/usr/bin/env bash
# Wall time of auditing a small torch test N times in one process:
#   flakescope audit --isolation inprocess (the pytest plugin's repetition, with capture), 1 and 2
#   jobs, against `pytest --flake-finder --flake-runs=N` (pytest-flakefinder) of the same test.
# Also times the plugin alone (pytest -p flakescope_pytest --flakescope-repeat N with capture and
# outcomes), which is what each in-process audit job runs.
#
# usage: bench/capture_vs_flakefinder.sh [N=200] [REPEATS=3]
#   FLAKESCOPE_CLI=path/to/flakescope (default: the first build*/analyzer/cli/flakescope found)
#   PYTHON=/usr/bin/python3 (Debian's, with python3-torch and pytest)
# pytest-flakefinder is installed with pip into .deps/flakefinder (git-ignored) when missing.
# Prints one line per configuration (median of REPEATS wall times) and the ratios.
set -euo pipefail

N=${1:-200}
REPEATS=${2:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-/usr/bin/python3}
TEST="$ROOT/bench/pytest/test_small_torch.py"
DEPS="$ROOT/.deps/flakefinder"
WORK=$(mktemp -d /tmp/flakescope-bench-XXXXXX)
trap 'rm -rf "$WORK"' EXIT

if ! PYTHONPATH="$DEPS" "$PYTHON" -c "import pytest_flakefinder" 2>/dev/null; then
  "$PYTHON" -m pip install --quiet --target "$DEPS" --no-deps pytest-flakefinder >&2
fi
FLAKEFINDER_VERSION=$(PYTHONPATH="$DEPS" "$PYTHON" -c \
  "import importlib.metadata as m; print(m.version('pytest-flakefinder'))")

CLI=${FLAKESCOPE_CLI:-}
if [[ -z "$CLI" ]]; then
  # The newest build's binary (build/flakescope; older layouts had it under analyzer/cli).
  CLI=$(ls -t "$ROOT"/../build*/flakescope "$ROOT"/build*/flakescope \
        "$ROOT"/../build*/analyzer/cli/flakescope "$ROOT"/build*/analyzer/cli/flakescope \
        2>/dev/null | head -1 || true)
fi

# Median wall time (seconds) of REPEATS runs of the command; the exit status is ignored (a flaky
# test may fail some repetitions) but recorded in $WORK/last_status.
time_median() {
  local times=()
  for ((r = 0; r < REPEATS; ++r)); do
    local start end
    start=$(date +%s.%N)
    set +e
    (cd "$WORK" && "$@") > "$WORK/last_output" 2>&1
    echo $? > "$WORK/last_status"
    set -e
    end=$(date +%s.%N)
    times+=("$(echo "$end - $start" | bc -l)")
  done
  printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {printf "%.3f", a[int((NR+1)/2)]}'
}

cp "$TEST" "$WORK/test_small_torch.py"
echo "command: $0 $N $REPEATS (FLAKESCOPE_CLI=${CLI:-none}) on $(date -u +%Y-%m-%dT%H:%MZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "N=$N repeats=$REPEATS python=$("$PYTHON" --version 2>&1) torch=$("$PYTHON" -c 'import torch; print(torch.__version__)') pytest-flakefinder=$FLAKEFINDER_VERSION cores=$(nproc)"

flakefinder=$(time_median env PYTHONPATH="$DEPS" "$PYTHON" -m pytest -q -p no:cacheprovider \
  --flake-finder --flake-runs="$N" test_small_torch.py)
echo "pytest --flake-finder --flake-runs=$N: ${flakefinder}s (exit $(cat "$WORK/last_status"))"

plugin=$(time_median env PYTHONPATH="$ROOT/integrations/pytest" FLAKESCOPE_SEED=1 \
  FLAKESCOPE_CAPTURE="$WORK/capture.jsonl" FLAKESCOPE_OUTCOMES="$WORK/outcomes.jsonl" \
  "$PYTHON" -m pytest -q -p no:cacheprovider -p flakescope_pytest --flakescope-repeat "$N" \
  test_small_torch.py)
echo "pytest -p flakescope_pytest --flakescope-repeat $N (capture+outcomes): ${plugin}s (exit $(cat "$WORK/last_status"))"
echo "capture lines per run: $(( $(wc -l < "$WORK/capture.jsonl") / REPEATS )), outcome lines per run: $(( $(wc -l < "$WORK/outcomes.jsonl") / REPEATS ))"
printf 'ratio plugin / flakefinder: %.3f\n' "$(echo "$plugin / $flakefinder" | bc -l)"

if [[ -z "$CLI" || ! -x "$CLI" ]]; then
  echo "flakescope CLI not found (set FLAKESCOPE_CLI): audit timings skipped"
  exit 0
fi
if ! "$CLI" audit --help 2>&1 | grep -q -- "--isolation"; then
  echo "$CLI has no 'audit --isolation': in-process audit timings skipped"
  exit 0
fi
for jobs in 1 2; do
  audit=$(time_median "$CLI" audit --isolation inprocess --capture --runs "$N" --jobs "$jobs" \
    --out "$WORK/audit-$jobs.json" -- "$PYTHON" -m pytest -q -p no:cacheprovider test_small_torch.py)
  echo "flakescope audit --isolation inprocess --capture --runs $N --jobs $jobs: ${audit}s (exit $(cat "$WORK/last_status"), $("$PYTHON" -c "import json,sys; r=json.load(open(sys.argv[1])); print(r['runs'], 'runs,', sum(a['trials'] for a in r.get('assertions', [])), 'assertion trials')" "$WORK/audit-$jobs.json" 2>/dev/null || echo 'no report'))"
  printf 'ratio audit(jobs=%d) / flakefinder: %.3f\n' "$jobs" "$(echo "$audit / $flakefinder" | bc -l)"
done
