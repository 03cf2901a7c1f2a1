#!/usr/bin/env bash
# Set up, build, and run the tests: the fast tier (unit, LibTorch unit, pytest plugin) and the
# end-to-end tier (the CLI driven as a user does, and the determinism gate run on this project's own
# probe suite). Slow studies are `ctest --test-dir build -L slow`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
ctest --test-dir build -LE slow --output-on-failure --timeout 900
