#!/usr/bin/env bash
# The main job on its built-in default: set up, build, then probe the default suite (real LibTorch
# ops and models, each under the ablation of determinism knobs) and write the report next to a
# Markdown and an HTML rendering of it.
set -euo pipefail
cd "$(dirname "$0")/.."
FLAKESCOPE_BUILD_TARGETS="--target flakescope" scripts/setup.sh
out=${FLAKESCOPE_DEMO_OUT:-reports/demo}
mkdir -p "$out"
set +e
./build/flakescope probe --suite default --runs 20 --jobs "$(nproc)" --out "$out/report.json"
rc=$?
set -e
./build/flakescope report "$out/report.json" --format md --out "$out/report.md"
./build/flakescope report "$out/report.json" --format html --out "$out/report.html"
echo "demo: wrote $out/report.json, $out/report.md and $out/report.html"
exit $rc
