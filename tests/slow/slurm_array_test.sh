#!/bin/bash
# Slow tier: a real single-node Slurm cluster (Debian's slurm-wlm and munge) in a temporary
# folder. Submits an audit as a 4-task job array through integrations/slurm/audit-array.sh
# (sbatch --array=0-3 --wait, then flakescope merge), and checks the merged report equals a
# single-machine audit of the same seeds. Everything (key, sockets, state, spool, logs) lives in
# the temporary folder; the daemons are stopped on exit. Exit 77 (skipped) without slurm-wlm.
#   usage: slurm_array_test.sh FLAKESCOPE_BIN SOURCE_DIR
set -u
flakescope=$1 src=$2
for tool in munged mungekey slurmctld slurmd sbatch sinfo scontrol; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed (apt-get install slurm-wlm munge)"; exit 77; }
done
fail() { echo "FAIL: $*" >&2; for f in "$tmp"/slurmctld.log "$tmp"/slurmd.log "$tmp"/shards/slurm-*.out; do [ -f "$f" ] && { echo "== $f"; tail -20 "$f"; } >&2; done; exit 1; }

tmp=$(mktemp -d /tmp/flakescope-slurm.XXXXXX)
chmod 755 "$tmp"  # munged wants its socket's folder reachable by every user
export SLURM_CONF="$tmp/slurm.conf"
stop_cluster() {
  scontrol shutdown >/dev/null 2>&1
  for i in $(seq 50); do
    [ -f "$tmp/slurmctld.pid" ] && kill -0 "$(cat "$tmp/slurmctld.pid")" 2>/dev/null || break
    sleep 0.2
  done
  [ -f "$tmp/slurmd.pid" ] && kill "$(cat "$tmp/slurmd.pid")" 2>/dev/null
  [ -f "$tmp/munged.pid" ] && kill "$(cat "$tmp/munged.pid")" 2>/dev/null
  sleep 0.5
  rm -rf "$tmp"
}
trap stop_cluster EXIT

mkdir -p "$tmp/key" "$tmp/state" "$tmp/spool" "$tmp/shards" && chmod 700 "$tmp/key"
mungekey --create --keyfile="$tmp/key/munge.key" || fail "mungekey"
munged --force --key-file="$tmp/key/munge.key" --socket="$tmp/munge.sock" \
  --pid-file="$tmp/munged.pid" --log-file="$tmp/munged.log" --seed-file="$tmp/key/munged.seed" ||
  fail "munged did not start"

# Ports away from the defaults (6817/6818), distinct per run.
port=$((20000 + ($$ % 20000)))
node=$(hostname -s)
cat >"$SLURM_CONF" <<CONF
ClusterName=flakescope-test
SlurmctldHost=$node
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$tmp/munge.sock
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
NodeName=$node CPUs=$(nproc) State=UNKNOWN
PartitionName=test Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF
slurmctld -f "$SLURM_CONF" || fail "slurmctld did not start"
slurmd -f "$SLURM_CONF" || fail "slurmd did not start"
state=""
for i in $(seq 120); do
  state=$(sinfo -h -n "$node" -o %T 2>/dev/null)
  [ "$state" = idle ] && break
  sleep 0.5
done
[ "$state" = idle ] || fail "node $node is '$state', not idle, after 60 s"

# The audited suite: the project's pytest fixture, in-process, 40 runs (10 per task), seed 100.
cmd=(/usr/bin/python3 -m pytest -q -p no:cacheprovider "$src/tests/fixtures/pytest/test_audit_fixture.py")
export FLAKESCOPE="$flakescope" FLAKESCOPE_OUT="$tmp/shards" FLAKESCOPE_RUNS=40
export FLAKESCOPE_ARGS="--isolation inprocess --seed 100"
cd "$tmp" || fail "cd"
"$src/integrations/slurm/audit-array.sh" 4 -- "${cmd[@]}" >"$tmp/merge.out" 2>&1
rc=$?
[ "$rc" -eq 1 ] || { cat "$tmp/merge.out" >&2; fail "merge exited $rc, expected 1 (a seed-flaky test)"; }
for k in 0 1 2 3; do
  grep -q "shard $k/4 (slurm array job" "$tmp/shards/slurm-"*"_$k.out" ||
    fail "task $k did not take its shard from the job array"
done

"$flakescope" audit --runs 40 --isolation inprocess --seed 100 --out "$tmp/single.json" -- "${cmd[@]}" \
  >"$tmp/single.out" 2>&1
rc=$?
[ "$rc" -eq 1 ] || { cat "$tmp/single.out" >&2; fail "single-machine audit exited $rc"; }

/usr/bin/python3 "$src/tests/slow/compare_audit_reports.py" "$tmp/shards/merged.json" "$tmp/single.json" ||
  fail "the merged report differs from the single-machine run"
echo "PASS: 4-task Slurm array merged = single-machine audit"
