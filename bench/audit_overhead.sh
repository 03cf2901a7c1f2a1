#!/usr/bin/env bash
# Benchmark of `flakescope audit` (issue 4):
#  1. per-run overhead: N runs of a >= 100 ms command under `audit --jobs 1` against the same
#     command in a bare shell loop (ratio; goal <= 1.05);
#  2. the wall-time speedup of --jobs 2 over --jobs 1 for a CPU-bound command (~0.2 s of CPU).
# Usage: bench/audit_overhead.sh [FLAKESCOPE] [N]   (default: build/flakescope, 20 runs)
# Prints one line per measurement; the machine's load average is printed too, because other
# work on the same cores inflates both the bare loop and the audit.
set -euo pipefail
cli=${1:-build/flakescope}
n=${2:-20}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
now() { date +%s.%N; }
elapsed() { echo "$2 - $1" | bc -l; }

sleep_cmd=(/bin/sleep 0.1)
cpu_cmd=(/usr/bin/python3 -c 'sum(i * i for i in range(1500000))')

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg), cores: $(nproc)"

# Interleave bare and audit measurements so drifting load affects both alike.
best_bare=; best_audit=
for rep in 1 2 3; do
  t0=$(now)
  for ((i = 0; i < n; i++)); do "${sleep_cmd[@]}"; done
  t1=$(now)
  "$cli" audit --runs "$n" --jobs 1 --junit none --out "$work/r.json" -- "${sleep_cmd[@]}" \
    >/dev/null 2>&1
  t2=$(now)
  bare=$(elapsed "$t0" "$t1"); audit=$(elapsed "$t1" "$t2")
  echo "rep $rep: bare loop ${bare}s, audit ${audit}s ($n runs of: ${sleep_cmd[*]})"
  if [[ -z $best_bare ]] || (($(echo "$bare < $best_bare" | bc -l))); then best_bare=$bare; fi
  if [[ -z $best_audit ]] || (($(echo "$audit < $best_audit" | bc -l))); then best_audit=$audit; fi
done
printf 'overhead ratio (best of 3, audit / bare loop): %.3f  (per run: %.1f ms extra)\n' \
  "$(echo "$best_audit / $best_bare" | bc -l)" \
  "$(echo "($best_audit - $best_bare) * 1000 / $n" | bc -l)"

for jobs in 1 2; do
  t0=$(now)
  "$cli" audit --runs "$n" --jobs "$jobs" --junit none --out "$work/r.json" -- "${cpu_cmd[@]}" \
    >/dev/null 2>&1
  t1=$(now)
  eval "wall_$jobs=$(elapsed "$t0" "$t1")"
done
echo "cpu-bound command (${cpu_cmd[*]}): --jobs 1 ${wall_1}s, --jobs 2 ${wall_2}s"
printf 'speedup of --jobs 2 over --jobs 1: %.2fx\n' "$(echo "$wall_1 / $wall_2" | bc -l)"
