#!/usr/bin/env bash
# Wall time of auditing a small torch test N times in one process:
#   flakescope audit --isolation inprocess (the pytest plugin's repetition), with and without
#   --capture, 1 and 2 jobs, against `pytest --flake-finder --flake-runs=N` (pytest-flakefinder) of
#   the same test. Also times the plugin alone (pytest -p flakescope_pytest --flakescope-repeat N
#   with capture and outcome lines, seed and the controlled setting), which is what each in-process
#   audit job runs.
#
# usage: bench/capture_vs_flakefinder.sh [N=200] [REPEATS=5]
#   FLAKESCOPE_CLI=path/to/flakescope (default: the newest build*/flakescope)
#   PYTHON=/usr/bin/python3 (Debian's, with python3-torch and pytest)
#   JOBS="1 2" the --jobs values of the audit rows
#   BASELINE_PLUGIN=DIR adds the audit rows (--jobs 1) run with the plugin in DIR (another
#     checkout's integrations/pytest): a before/after of a plugin change from one run
# Every row uses this checkout's plugin (integrations/pytest; FLAKESCOPE_PYTHONPATH for the audit,
# whose build tree holds a copy made at build time). pytest-flakefinder is installed with pip into
# .deps/flakefinder (git-ignored) when missing. The configurations are interleaved (round r runs
# each once), so load that comes and goes during the benchmark reaches all of them alike; each line
# is the median of REPEATS wall times (min and max follow) and of REPEATS CPU times (user + system
# of the command and its children: on a loaded machine the steadier measure), and the ratios are of
# medians. Any command that exits non-zero fails the benchmark: the test passes, and a failing
# repetition would time pytest's failure reports instead.
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

# The plugin row measures as an audit's runs do: with the native measurement beside the CLI (the
# audit passes FLAKESCOPE_MEASURE_LIBRARY; without a CLI, or a library, both measure with numpy).
MEASURE_LIBRARY=off
if ((AUDIT)); then
  for dir in "$(dirname "$CLI")/share/flakescope/pytest" "$(dirname "$CLI")/../share/flakescope/pytest"; do
    if [[ -f "$dir/libflakescope_measure.so" ]]; then
      MEASURE_LIBRARY=$(realpath "$dir/libflakescope_measure.so")
      break
    fi
  done
fi

cp "$TEST" "$WORK/test_small_torch.py"
echo "command: $0 $N $REPEATS (FLAKESCOPE_CLI=${CLI:-none}) on $(date -u +%Y-%m-%dT%H:%MZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "capture measurement: $([[ $MEASURE_LIBRARY == off ]] && echo numpy || echo "native ($MEASURE_LIBRARY)")"
echo "N=$N repeats=$REPEATS python=$("$PYTHON" --version 2>&1) torch=$("$PYTHON" -c 'import torch; print(torch.__version__)') pytest-flakefinder=$FLAKEFINDER_VERSION cores=$(nproc)"

PYTEST=("$PYTHON" -m pytest -q -p no:cacheprovider)
PLUGIN="$ROOT/integrations/pytest"
JOBS=${JOBS:-1 2}
BASELINE_PLUGIN=${BASELINE_PLUGIN:-}
if [[ -n "$BASELINE_PLUGIN" && ! -f "$BASELINE_PLUGIN/flakescope_pytest.py" ]]; then
  echo "BASELINE_PLUGIN=$BASELINE_PLUGIN has no flakescope_pytest.py" >&2
  exit 2
fi
declare -A TIMES CPU
NAMES=()
# timed NAME CMD...: runs CMD in $WORK once, appends its wall time to TIMES[NAME] and its CPU time
# (user + system, children included) to CPU[NAME].
timed() {
  local name=$1 start end status
  shift
  [[ -v "TIMES[$name]" ]] || NAMES+=("$name")
  start=$(date +%s.%N)
  set +e
  (cd "$WORK" && /usr/bin/time -f "%U %S" -o "$WORK/cpu-$name" "$@") > "$WORK/output-$name" 2>&1
  status=$?
  set -e
  end=$(date +%s.%N)
  # A command that failed (a failing repetition, a usage error, a command not found) did not
  # measure what its row says: the benchmark fails instead of printing ratios of it.
  if ((status != 0)); then
    echo "benchmark failed: '$name' exited $status: $*" >&2
    tail -n 5 "$WORK/output-$name" >&2
    exit 1
  fi
  TIMES[$name]+="$(echo "$end - $start" | bc -l) "
  CPU[$name]+="$(awk '{printf "%.3f", $1 + $2}' "$WORK/cpu-$name") "
}
# Median, min and max of a list of times.
stats() {
  printf '%s\n' $1 | sort -g |
    awk '{a[NR]=$1} END {printf "%.3f %.3f %.3f\n", a[int((NR+1)/2)], a[1], a[NR]}'
}

for ((r = 0; r < REPEATS; ++r)); do
  timed "flakefinder" env PYTHONPATH="$DEPS" "${PYTEST[@]}" --flake-finder --flake-runs="$N" \
    test_small_torch.py
  rm -f "$WORK/capture.jsonl" "$WORK/outcomes.jsonl"
  timed "plugin" env PYTHONPATH="$PLUGIN" FLAKESCOPE_SEED=1 FLAKESCOPE_SETTING=controlled \
    FLAKESCOPE_MEASURE_LIBRARY="$MEASURE_LIBRARY" \
    OMP_NUM_THREADS=1 FLAKESCOPE_CAPTURE="$WORK/capture.jsonl" \
    FLAKESCOPE_OUTCOMES="$WORK/outcomes.jsonl" \
    "${PYTEST[@]}" -p flakescope_pytest --flakescope-repeat "$N" test_small_torch.py
  if ((AUDIT)); then
    for jobs in $JOBS; do
      timed "audit-capture-$jobs" env FLAKESCOPE_PYTHONPATH="$PLUGIN" "$CLI" audit \
        --isolation inprocess --capture --runs "$N" --jobs "$jobs" \
        --out "$WORK/audit-$jobs.json" -- "${PYTEST[@]}" test_small_torch.py
      timed "audit-$jobs" env FLAKESCOPE_PYTHONPATH="$PLUGIN" "$CLI" audit \
        --isolation inprocess --runs "$N" --jobs "$jobs" \
        --out "$WORK/plain-$jobs.json" -- "${PYTEST[@]}" test_small_torch.py
    done
    if [[ -n "$BASELINE_PLUGIN" ]]; then
      timed "baseline-audit-capture-1" env FLAKESCOPE_PYTHONPATH="$BASELINE_PLUGIN" "$CLI" audit \
        --isolation inprocess --capture --runs "$N" --jobs 1 \
        --out "$WORK/baseline-audit-1.json" -- "${PYTEST[@]}" test_small_torch.py
      timed "baseline-audit-1" env FLAKESCOPE_PYTHONPATH="$BASELINE_PLUGIN" "$CLI" audit \
        --isolation inprocess --runs "$N" --jobs 1 \
        --out "$WORK/baseline-plain-1.json" -- "${PYTEST[@]}" test_small_torch.py
    fi
  fi
done

read -r flakefinder _ < <(stats "${TIMES[flakefinder]}")
read -r flakefinder_cpu _ < <(stats "${CPU[flakefinder]}")
describe() {
  case $1 in
    flakefinder) echo "pytest --flake-finder --flake-runs=$N" ;;
    plugin) echo "pytest -p flakescope_pytest --flakescope-repeat $N (capture+outcomes)" ;;
    baseline-audit-capture-*) echo "flakescope audit ... --capture --jobs 1, BASELINE_PLUGIN" ;;
    baseline-audit-*) echo "flakescope audit ... --jobs 1, BASELINE_PLUGIN" ;;
    audit-capture-*) echo "flakescope audit --isolation inprocess --capture --runs $N --jobs ${1##*-}" ;;
    audit-*) echo "flakescope audit --isolation inprocess --runs $N --jobs ${1##*-}" ;;
  esac
}
printf '%-74s %-31s %s\n' "configuration (wall: median [min, max]; cpu: median)" "wall" "cpu"
for name in "${NAMES[@]}"; do
  read -r median low high < <(stats "${TIMES[$name]}")
  read -r cpu _ < <(stats "${CPU[$name]}")
  printf '%-74s %6.3fs [%.3f, %.3f] %.3fx  %6.3fs %.3fx\n' "$(describe "$name"):" "$median" \
    "$low" "$high" "$(echo "$median / $flakefinder" | bc -l)" "$cpu" \
    "$(echo "$cpu / $flakefinder_cpu" | bc -l)"
done
echo "plugin: capture lines $(wc -l < "$WORK/capture.jsonl"), outcome lines $(wc -l < "$WORK/outcomes.jsonl") (last round)"
if ((AUDIT)); then
  "$PYTHON" -c "import json,sys; r=json.load(open(sys.argv[1])); print('audit report: %d runs, %d assertion trials, isolation %s' % (r['runs'], sum(a['trials'] for a in r.get('assertions', [])), r['config']['isolation']))" "$WORK/audit-${JOBS##* }.json"
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
