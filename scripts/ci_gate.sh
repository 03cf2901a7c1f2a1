#!/usr/bin/env bash
# Dogfooding: run the default CPU probe suite and gate it against the committed baseline with the
# committed policy. Called from .ci/run. Exit 0 pass, 1 regression, 2 bad input.
#
#   scripts/ci_gate.sh [BUILD_DIR]        (default: build)
#
# Environment: FLAKESCOPE_BASELINE (default: reports/baselines/cpu-<arch>-libtorch-<major.minor>.json
# for the LibTorch this build links), FLAKESCOPE_GATE_OUT (default: BUILD_DIR/gate). Writes there the
# suite report, the gate report (JSON), JUnit XML and Markdown; the Markdown also goes to
# $GITHUB_STEP_SUMMARY when that is set.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
cli=$build/flakescope
[[ -x $cli ]] || { echo "ci_gate.sh: $cli not built" >&2; exit 2; }
out=${FLAKESCOPE_GATE_OUT:-$build/gate}
mkdir -p "$out"

# The baseline is named by platform and LibTorch version (see reports/baselines/README.md).
"$cli" probe --suite default --settings ablation --out "$out/current.json" > "$out/probe.txt"
libtorch=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["libtorch"]["version"])' \
  "$out/current.json" 2>/dev/null || echo unknown)
series=$(echo "$libtorch" | cut -d. -f1,2)
baseline=${FLAKESCOPE_BASELINE:-$root/reports/baselines/cpu-$(uname -m)-libtorch-$series.json}
if [[ ! -f $baseline ]]; then
  echo "ci_gate.sh: no baseline for this platform ($baseline); regenerate it as reports/baselines/README.md says" >&2
  exit 2
fi

status=0
"$cli" gate --baseline "$baseline" --policy "$root/reports/policy/default.json" \
  --out "$out/gate.json" "$out/current.json" || status=$?
if [[ -f $out/gate.json ]]; then
  "$cli" report "$out/gate.json" --format junit --out "$out/gate.junit.xml"
  GITHUB_STEP_SUMMARY= "$cli" report "$out/gate.json" --format md --out "$out/gate.md"
fi
exit $status
