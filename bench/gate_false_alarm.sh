#!/usr/bin/env bash
# The gate's false-alarm rate: N gate runs (default 200) of an unchanged nondeterministic probe
# (calibration/racy_sum) against its own baseline. Every gate run gets a fresh measurement, so each
# sees new sampling noise; a sound gate fails none of them.
#
#   bench/gate_false_alarm.sh BUILD_DIR [N] [POLICY]
#
# Environment: FALSE_ALARM_DIR keeps the measured reports (base.json, cur-<i>.json) so an
# interrupted study resumes where it stopped (default: a temporary folder, removed at the end);
# FALSE_ALARM_SETTINGS (default: controlled) the probe's --settings.
# Prints one line per failure and a summary line: "false failures: F / N".
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cli=${1:?usage: gate_false_alarm.sh BUILD_DIR [N] [POLICY]}/flakescope
n=${2:-200}
policy=${3:-$root/reports/policy/default.json}
probe=(probe calibration/racy_sum --settings "${FALSE_ALARM_SETTINGS:-controlled}")
if [[ -n ${FALSE_ALARM_DIR:-} ]]; then
  work=$FALSE_ALARM_DIR
  mkdir -p "$work"
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi

if [[ ! -s $work/base.json ]]; then
  "$cli" "${probe[@]}" --out "$work/base.json.tmp" > /dev/null
  mv "$work/base.json.tmp" "$work/base.json"
fi
failures=0 errors=0
for ((i = 1; i <= n; i++)); do
  if [[ ! -s $work/cur-$i.json ]]; then
    "$cli" "${probe[@]}" --out "$work/cur-$i.json.tmp" > /dev/null
    mv "$work/cur-$i.json.tmp" "$work/cur-$i.json"
  fi
  rc=0
  "$cli" gate --baseline "$work/base.json" --policy "$policy" --out "$work/gate-$i.json" \
    "$work/cur-$i.json" > "$work/gate-$i.txt" || rc=$?
  if [[ $rc -eq 1 ]]; then
    failures=$((failures + 1))
    echo "run $i: FALSE FAILURE"; grep -E "^regression" "$work/gate-$i.txt" || true
  elif [[ $rc -ne 0 ]]; then
    errors=$((errors + 1)); echo "run $i: gate exit $rc"
  fi
done
echo "false failures: $failures / $n (gate errors: $errors; probe: ${probe[*]}; policy $(basename "$policy"))"
