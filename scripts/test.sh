#!/usr/bin/env bash
# Set up, build, and run the tests: the fast tier (unit, LibTorch unit, pytest plugin, workflow
# lint) and the end-to-end tier (the CLI driven as a user does, and the determinism gate run on this
# project's own probe suite; `pip install` of the plugin into a fresh venv). Slow studies are
# `ctest --test-dir build -L slow`.
#
# env: FLAKESCOPE_LIBTORCH2=1 also builds and tests against the LibTorch of PyPI's torch 2.x
#      (scripts/build_libtorch2.sh: ~540 MB download and a second full build; see README).
#      FLAKESCOPE_INSTALL_TESTS=1 also runs the slow install tier (`ctest -L install`:
#      `cmake --install` + a find_package consumer audited with --capture, `pip install .`).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
elapsed() { echo "test.sh: $1 done after $(( $(date +%s) - start )) s"; }
scripts/setup.sh
elapsed "setup and build"
ctest --test-dir build -LE slow --output-on-failure --timeout 900
elapsed "fast tier"
if [ -n "${FLAKESCOPE_INSTALL_TESTS:-}" ]; then
  ctest --test-dir build -L install --output-on-failure --timeout 900
  elapsed "install tier"
fi
if [ -n "${FLAKESCOPE_LIBTORCH2:-}" ]; then
  scripts/build_libtorch2.sh test
  elapsed "LibTorch 2.x"
fi
