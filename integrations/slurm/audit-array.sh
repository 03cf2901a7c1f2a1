#!/bin/bash
# Audits a test command as a Slurm job array of TASKS shards, waits for it and merges the shards:
#
#   integrations/slurm/audit-array.sh 4 -- python3 -m pytest tests/
#
# The merged report is $FLAKESCOPE_OUT/merged.json (FLAKESCOPE_OUT defaults to ./flakescope-shards);
# the exit code is merge's (0 nothing flaky, 1 flaky, 2 bad input). FLAKESCOPE, FLAKESCOPE_RUNS and
# FLAKESCOPE_ARGS are passed to every task (see flakescope-array.sbatch); extra sbatch options go
# in SBATCH_ARGS (e.g. "--partition=cpu --time=01:00:00").
set -u
if [ $# -lt 3 ] || [ "$2" != "--" ] || ! [[ "$1" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: $0 TASKS -- CMD ARGS..." >&2
  exit 2
fi
tasks=$1
shift 2
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export FLAKESCOPE_OUT="${FLAKESCOPE_OUT:-$PWD/flakescope-shards}"
mkdir -p "$FLAKESCOPE_OUT" || exit 2
# shellcheck disable=SC2086  # SBATCH_ARGS is a list of options on purpose
sbatch --array="0-$((tasks - 1))" --wait --chdir="$PWD" --output="$FLAKESCOPE_OUT/slurm-%A_%a.out" \
  ${SBATCH_ARGS:-} "$here/flakescope-array.sbatch" "$@" || {
  echo "$0: the job array failed (see $FLAKESCOPE_OUT/slurm-*.out)" >&2
  exit 2
}
logs=()
for ((k = 0; k < tasks; ++k)); do logs+=("$FLAKESCOPE_OUT/shard-$k.jsonl"); done
exec "${FLAKESCOPE:-flakescope}" merge "${logs[@]}" --out "$FLAKESCOPE_OUT/merged.json"
