#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) and runs one or all of them for a given time.
#
#   scripts/fuzz.sh TARGET|all SECONDS
#
# TARGET is a name under tests/fuzz/ without the fuzz_ prefix (npy, safetensors, junit, run_log).
# Each target starts from its committed seed corpus tests/fuzz/corpus/<target>/ (read only) and
# keeps what it finds in tests/fuzz/artifacts/<target>/ (git-ignored): corpus/ holds new inputs,
# crash-*/leak-*/oom-*/timeout-* files are findings. Copy a finding into the seed corpus once fixed:
# the fast-tier test fuzz_corpus_replay_test replays every file there.
#
# Environment: FUZZ_BUILD (build folder, default <repo>/build-fuzz), FUZZ_NICE (default 10),
# FUZZ_MAX_LEN (default 4096). Runs one target at a time, one job, so shared machines keep working.
set -euo pipefail

if [[ $# -ne 2 || ! "$2" =~ ^[0-9]+$ ]]; then
  echo "usage: $0 TARGET|all SECONDS" >&2
  exit 2
fi
target="$1"
seconds="$2"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${FUZZ_BUILD:-$repo/build-fuzz}"
nice_level="${FUZZ_NICE:-10}"
max_len="${FUZZ_MAX_LEN:-4096}"

if [[ ! -f "$build/build.ninja" ]]; then
  CC=clang CXX=clang++ cmake -G Ninja -DFLAKESCOPE_TORCH=OFF -DFLAKESCOPE_FUZZ=ON \
    -DFLAKESCOPE_SANITIZE=OFF -DFLAKESCOPE_BENCH=OFF -S "$repo" -B "$build" >/dev/null
fi

if [[ "$target" == all ]]; then
  targets=()
  for src in "$repo"/tests/fuzz/fuzz_*.cpp; do
    name="$(basename "$src" .cpp)"
    targets+=("${name#fuzz_}")
  done
else
  [[ -f "$repo/tests/fuzz/fuzz_$target.cpp" ]] || { echo "no fuzz target '$target'" >&2; exit 2; }
  targets=("$target")
fi

nice -n "$nice_level" ninja -C "$build" -j2 "${targets[@]/#/fuzz_}" >/dev/null 2>&1 ||
  { echo "build failed: ninja -C $build" >&2; exit 3; }

status=0
for t in "${targets[@]}"; do
  work="$repo/tests/fuzz/artifacts/$t"
  mkdir -p "$work/corpus"
  seeds="$repo/tests/fuzz/corpus/$t"
  mkdir -p "$seeds"
  dict=()
  [[ -f "$repo/tests/fuzz/dict/$t.dict" ]] && dict=(-dict="$repo/tests/fuzz/dict/$t.dict")
  log="$work/fuzz-$(date -u +%Y%m%dT%H%M%SZ).log"
  echo "fuzz_$t: ${seconds}s, log $log"
  # -malloc_limit_mb: any single allocation above it is a finding (the readers never need more
  # than the input size, which max_len bounds). -use_value_profile helps with the magic numbers.
  set +e
  nice -n "$nice_level" "$build/tests/fuzz/fuzz_$t" "$work/corpus" "$seeds" "${dict[@]}" \
    -max_total_time="$seconds" -max_len="$max_len" -rss_limit_mb=2048 -malloc_limit_mb=64 \
    -timeout=10 -use_value_profile=1 -print_final_stats=1 -artifact_prefix="$work/" \
    >"$log" 2>&1
  rc=$?
  set -e
  execs="$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{print $2}' | tail -1)"
  cov="$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)"
  echo "fuzz_$t: exit $rc, ${execs:-?} executions, $cov, corpus $(ls "$work/corpus" | wc -l) files"
  if [[ $rc -ne 0 ]]; then
    status=1
    grep -E 'ERROR|SUMMARY|invariant|Test unit written' "$log" | head -5 || true
  fi
done
exit $status
