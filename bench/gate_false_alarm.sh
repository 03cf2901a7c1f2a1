#!/usr/bin/env bash
# The gate's false-alarm rate: N gate runs (default 200) of an unchanged nondeterministic probe
# (calibration/racy_sum) against its own baseline. Each run measures the probe afresh, so every
# gate run sees new sampling noise; a sound gate fails none of them.
#
#   bench/gate_false_alarm.sh BUILD_DIR [N] [POLICY]
#
# Prints one line per failure and a summary line: "false failures: F / N".
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cli=${1:?usage: gate_false_alarm.sh BUILD_DIR [N] [POLICY]}/flakescope
n=${2:-200}
policy=${3:-$root/reports/policy/default.json}
probe=(probe calibration/racy_sum --settings ablation)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$cli" "${probe[@]}" --out "$work/base.json" > /dev/null
failures=0 errors=0
for ((i = 1; i <= n; i++)); do
  "$cli" "${probe[@]}" --out "$work/cur.json" > /dev/null
  rc=0
  "$cli" gate --baseline "$work/base.json" --policy "$policy" --out "$work/gate.json" \
    "$work/cur.json" > "$work/gate.txt" || rc=$?
  if [[ $rc -eq 1 ]]; then
    failures=$((failures + 1))
    echo "run $i: FALSE FAILURE"; grep -E "^regression" "$work/gate.txt" || true
    cp "$work/gate.json" "${TMPDIR:-/tmp}/gate-false-alarm-$i.json"  # kept for inspection
  elif [[ $rc -ne 0 ]]; then
    errors=$((errors + 1)); echo "run $i: gate exit $rc"
  fi
done
echo "false failures: $failures / $n (gate errors: $errors; policy $(basename "$policy"))"
