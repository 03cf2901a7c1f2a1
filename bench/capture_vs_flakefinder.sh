#!/usr/bin/env bash
# Wall time of auditing a small torch test N times in one process:
#   flakescope audit --isolation inprocess (the pytest plugin's repetition), with and without
#   --capture, 1 and 2 jobs, against `pytest --flake-finder --flake-runs=N` (pytest-flakefinder) of
#   the same test. Also times the plugin alone (pytest -p flakescope_pytest --flakescope-repeat N
#   with capture and outcome lines), which is what each in-process audit job runs.
#
# usage: bench/capture_vs_flakefinder.sh [N=200] [REPEATS=5]
#   FLAKESCOPE_CLI=path/to/flakescope (default: the newest build*/flakescope)
#   PYTHON=/usr/bin/python3 (Debian's, with python3-torch and pytest)
# pytest-flakefinder is installed with pip into .deps/flakefinder (git-ignored) when missing.
# The configurations are interleaved (round r runs each once), so load that comes and goes during
# the benchmark reaches all of them alike; each line is the median of REPEATS wall times (min and
# max follow), and the ratios are of medians.
set -euo pipefail

N=${1:-200}
REPEATS=${2:-5}
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
# The commands run in a scratch folder: a relative FLAKESCOPE_CLI would name nothing there.
if [[ -n "$CLI" ]]; then CLI=$(realpath -e "$CLI" 2>/dev/null || echo "$CLI"); fi
AUDIT=1
if [[ -z "$CLI" || ! -x "$CLI" ]]; then
  echo "flakescope CLI not found (set FLAKESCOPE_CLI): audit timings skipped"
  AUDIT=0
elif [[ "$("$CLI" audit --help 2>&1 || true)" != *--isolation* ]]; then
  # (Read whole: `| grep -q` closes the pipe early, and under pipefail the SIGPIPE read as "no".)
  echo "$CLI has no 'audit --isolation': in-process audit timings skipped"
  AUDIT=0
fi

cp "$TEST" "$WORK/test_small_torch.py"
echo "command: $0 $N $REPEATS (FLAKESCOPE_CLI=${CLI:-none}) on $(date -u +%Y-%m-%dT%H:%MZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "N=$N repeats=$REPEATS python=$("$PYTHON" --version 2>&1) torch=$("$PYTHON" -c 'import torch; print(torch.__version__)') pytest-flakefinder=$FLAKEFINDER_VERSION cores=$(nproc)"

PYTEST=("$PYTHON" -m pytest -q -p no:cacheprovider)
declare -A TIMES STATUS
NAMES=()
# timed NAME CMD...: runs CMD in $WORK once, appends its wall time to TIMES[NAME].
timed() {
  local name=$1 start end
  shift
  [[ -v "TIMES[$name]" ]] || NAMES+=("$name")
  start=$(date +%s.%N)
  set +e
  (cd "$WORK" && "$@") > "$WORK/output-$name" 2>&1
  STATUS[$name]=$?  # a flaky test may fail some repetitions (exit 1): recorded, not fatal
  set -e
  # Anything else (a usage error, a command not found: 2, 126, 127, ...) measured nothing: the
  # benchmark fails instead of printing ratios of a command that did not run.
  if ((STATUS[$name] > 1)); then
    echo "benchmark failed: '$name' exited ${STATUS[$name]}: $*" >&2
    tail -n 5 "$WORK/output-$name" >&2
    exit 1
  fi
  end=$(date +%s.%N)
  TIMES[$name]+="$(echo "$end - $start" | bc -l) "
}
# Median, min and max of a configuration's times.
stats() {
  printf '%s\n' ${TIMES[$1]} | sort -g |
    awk '{a[NR]=$1} END {printf "%.3f %.3f %.3f\n", a[int((NR+1)/2)], a[1], a[NR]}'
}

for ((r = 0; r < REPEATS; ++r)); do
  timed "flakefinder" env PYTHONPATH="$DEPS" "${PYTEST[@]}" --flake-finder --flake-runs="$N" \
    test_small_torch.py
  rm -f "$WORK/capture.jsonl" "$WORK/outcomes.jsonl"
  timed "plugin" env PYTHONPATH="$ROOT/integrations/pytest" FLAKESCOPE_SEED=1 \
    FLAKESCOPE_CAPTURE="$WORK/capture.jsonl" FLAKESCOPE_OUTCOMES="$WORK/outcomes.jsonl" \
    "${PYTEST[@]}" -p flakescope_pytest --flakescope-repeat "$N" test_small_torch.py
  if ((AUDIT)); then
    for jobs in 1 2; do
      timed "audit-capture-$jobs" "$CLI" audit --isolation inprocess --capture --runs "$N" \
        --jobs "$jobs" --out "$WORK/audit-$jobs.json" -- "${PYTEST[@]}" test_small_torch.py
      timed "audit-$jobs" "$CLI" audit --isolation inprocess --runs "$N" --jobs "$jobs" \
        --out "$WORK/plain-$jobs.json" -- "${PYTEST[@]}" test_small_torch.py
    done
  fi
done

read -r flakefinder _ < <(stats flakefinder)
describe() {
  case $1 in
    flakefinder) echo "pytest --flake-finder --flake-runs=$N" ;;
    plugin) echo "pytest -p flakescope_pytest --flakescope-repeat $N (capture+outcomes)" ;;
    audit-capture-*) echo "flakescope audit --isolation inprocess --capture --runs $N --jobs ${1##*-}" ;;
    audit-*) echo "flakescope audit --isolation inprocess --runs $N --jobs ${1##*-}" ;;
  esac
}
for name in "${NAMES[@]}"; do
  read -r median low high < <(stats "$name")
  printf '%-72s %6.3fs [%.3f, %.3f] ratio %.3f (exit %s)\n' "$(describe "$name"):" "$median" \
    "$low" "$high" "$(echo "$median / $flakefinder" | bc -l)" "${STATUS[$name]}"
done
echo "plugin: capture lines $(wc -l < "$WORK/capture.jsonl"), outcome lines $(wc -l < "$WORK/outcomes.jsonl") (last round)"
if ((AUDIT)); then
  "$PYTHON" -c "import json,sys; r=json.load(open(sys.argv[1])); print('audit report: %d runs, %d assertion trials, isolation %s' % (r['runs'], sum(a['trials'] for a in r.get('assertions', [])), r['config']['isolation']))" "$WORK/audit-2.json"
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
