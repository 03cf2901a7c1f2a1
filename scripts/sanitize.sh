#!/usr/bin/env bash
# ASan + UBSan build of the LibTorch-free libraries (core, stats, io, audit, report) and the
# LibTorch-free CLI, running their unit tests and the CLI on a few bad inputs. Any sanitizer report
# fails the script (halt_on_error, no UBSan recovery).
#
#   scripts/sanitize.sh [BUILD_DIR=build-asan] [JOBS=2]
#
# The pytest plugin's tests (the `unit` ctest label's pytest_plugin) need no sanitizer and are not
# run here. Prints the time each phase took, so CI can decide whether it fits.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$repo/build-asan}"
jobs="${2:-2}"
start=$(date +%s)

cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DFLAKESCOPE_TORCH=OFF \
  -DFLAKESCOPE_SANITIZE=ON -DFLAKESCOPE_BENCH=OFF -DFLAKESCOPE_FUZZ=OFF \
  -DCMAKE_CXX_FLAGS="-fno-sanitize-recover=undefined" >/dev/null
cmake --build "$build" -j "$jobs" --target unit_tests flakescope
built=$(date +%s)

export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
"$build/tests/unit_tests" --gtest_brief=1

# The CLI on inputs it must refuse with one line (exit 2), under the sanitizers.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '1e-7\n\x01\x02\xff binary\n' >"$work/bad.txt"
mkdir "$work/dir"
for args in "tolerance $work/bad.txt" "tolerance $work/dir" "report $work/dir" \
            "merge $work/bad.txt" "gate --baseline $work/bad.txt --current $work/bad.txt"; do
  set +e
  # shellcheck disable=SC2086
  "$build/flakescope" $args >/dev/null 2>"$work/err"
  rc=$?
  set -e
  if [[ $rc -ne 2 ]] || grep -q "Sanitizer" "$work/err"; then
    echo "sanitize: flakescope $args: exit $rc" >&2
    cat "$work/err" >&2
    exit 1
  fi
done
end=$(date +%s)
echo "sanitize: ok (build $((built - start)) s, tests $((end - built)) s)"
