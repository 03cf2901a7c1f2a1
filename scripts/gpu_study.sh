#!/usr/bin/env bash
# The CUDA study of issue 7 in one call, on the GPU machine (PyTorch with CUDA in its python3, nvcc,
# cmake, ninja; no package registry):
#   1. unpacks the Debian packages from .deps/ (scripts/fetch_gpu_deps.sh fetched them) into a
#      prefix, with dpkg -x (or a Python ar/tar reader where dpkg is missing);
#   2. configures against the LibTorch inside python3's torch and that prefix, builds flakescope;
#   3. runs the CUDA suite under the ablation settings and renders the report as Markdown;
#   4. records what the documented list says on this torch version, and the environment;
#   5. writes the TF32 shift table (matmul/linear/conv: free:tf32 against controlled) that the
#      README and reports/gpu/README.md carry, from the committed report;
#   6. the determinism gate on CUDA: `flakescope gate --run-suite cuda` against
#      reports/baselines/cuda-<gpu>-libtorch-<major.minor>.json (created from step 3's report on
#      the first run, in OUTDIR/reports/baselines/, to be committed), a deliberate regression that
#      must fail it (the test-only engine flakescope-torch-faults makes cuda/ops/randn_explicit
#      draw from the unseeded CUDA generator), and GATE_REPEATS gate runs of the unchanged build
#      counting false failures (OUTDIR/gate/summary.txt).
#
#   scripts/gpu_study.sh [OUTDIR]          (OUTDIR defaults to $OUT, then ./out/gpu)
#   env: RUNS (default 20), PYTHON (python3), BUILD (build folder), JOBS (compile jobs),
#        PROBE_JOBS (probes at a time, default 8: each worker's CUDA start-up overlaps the others'),
#        SUITE (default cuda), GATE_REPEATS (default 10; 0 skips step 6), GATE_RUNS (runs per
#        setting in the gate's suite runs, default RUNS),
#        STOP_AFTER=configure (dry run of steps 1-2 on a machine without a GPU) or build,
#        FLAKESCOPE_CLI=path (skip the build and use that binary: tests step 3 without a GPU)
# Results: OUTDIR/reports/gpu/<gpu>_driver-<v>_cuda-<v>_torch-<v>.{json,md} plus study.log and
# documented_list.txt. Exit status: that of the probe run (0, or 1 when nondeterminism was found,
# which on a GPU is the expected outcome), or the failing step's; 4 when the gate study of step 6
# failed (the regression passed the gate, a false failure, or a gate error).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-${OUT:-$root/out/gpu}}"
python="${PYTHON:-python3}"
build="${BUILD:-$root/build-gpu}"
runs="${RUNS:-20}"
suite="${SUITE:-cuda}"
jobs="${JOBS:-$(nproc)}"
deps="$root/.deps"
prefix="$deps/prefix"
mkdir -p "$out/reports/gpu"
log="$out/study.log"
exec > >(tee -a "$log") 2>&1
step() { echo "gpu_study [$(date -u +%H:%M:%S)] $*"; }
start=$(date +%s)

# --- 1. dependencies -------------------------------------------------------------------------
shopt -s nullglob
debs=("$deps"/*.deb)
if ((${#debs[@]} == 0)); then
  echo "gpu_study: no .deb files in $deps: run scripts/fetch_gpu_deps.sh on a machine with apt" >&2
  exit 2
fi
step "unpacking ${#debs[@]} packages into $prefix"
mkdir -p "$prefix"
for deb in "${debs[@]}"; do
  if command -v dpkg >/dev/null; then
    dpkg -x "$deb" "$prefix"
  else
    "$python" - "$deb" "$prefix" <<'PY'
import io, sys, tarfile
deb, prefix = sys.argv[1], sys.argv[2]
data = open(deb, "rb").read()
assert data[:8] == b"!<arch>\n", deb + " is not a Debian archive"
pos = 8
while pos < len(data):
    name = data[pos:pos + 16].decode().strip().rstrip("/")
    size = int(data[pos + 48:pos + 58].decode().strip())
    body = data[pos + 60:pos + 60 + size]
    if name.startswith("data.tar"):
        if name.endswith(".zst"):
            sys.exit(deb + ": zstd-compressed data: install dpkg or zstd")
        tarfile.open(fileobj=io.BytesIO(body)).extractall(prefix)
    pos += 60 + size + (size & 1)
PY
  fi
done
multiarch_lib="$prefix/usr/lib/x86_64-linux-gnu"

# --- 2. build -------------------------------------------------------------------------------
if [[ -n "${FLAKESCOPE_CLI:-}" ]]; then
  cli="$FLAKESCOPE_CLI"
  step "using the prebuilt $cli"
else
torch_prefix="$("$python" -c 'import torch; print(torch.utils.cmake_prefix_path)')"
# The torch package folder itself too, so TorchConfig's find_library picks torch/lib/libtorch.so
# before any system LibTorch.
torch_root="$(dirname "$(dirname "$torch_prefix")")"
step "LibTorch from $torch_prefix"
# One C++ runtime in the process: link the libstdc++.so that torch's own libraries load. A toolchain
# that links libstdc++ statically by default (the GPU image's /opt/gcc did) puts a second copy in
# the executable; libtorch then binds some std:: symbols to it and others to the shared one, and
# the first study crashed in std::regex (torch parsing CUBLAS_WORKSPACE_CONFIG) and lost
# exceptions thrown in autograd's threads ("isTensorList() INTERNAL ASSERT FAILED").
stdcxx="$(ldd "$torch_root/lib/libtorch_cpu.so" 2>/dev/null | awk '/libstdc\+\+\.so/ {print $3; exit}')"
step "libstdc++ of torch: ${stdcxx:-not found}"
step "configuring $build"
cmake -G Ninja -S "$root" -B "$build" \
  ${stdcxx:+-DCMAKE_CXX_STANDARD_LIBRARIES="$stdcxx"} \
  -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$torch_prefix;$torch_root;$prefix/usr" \
  -DTORCH_CUDA_ARCH_LIST="${TORCH_CUDA_ARCH_LIST:-9.0}" \
  -DFLAKESCOPE_CUDA=ON -DFLAKESCOPE_TESTS=OFF -DFLAKESCOPE_BENCH=OFF -DFLAKESCOPE_FAULT_ENGINE=ON \
  -DBoost_USE_STATIC_LIBS=ON \
  -DCMAKE_EXE_LINKER_FLAGS=-Wl,--allow-shlib-undefined
# --allow-shlib-undefined: a pip torch's libtorch_cuda.so needs libcusparseLt, NCCL, nvshmem, ...
# from the nvidia-* wheels, found at run time through its own $ORIGIN RUNPATH; ld would try to
# resolve them at link time too and fails where a wheel's layout hides them from it.
if [[ "${STOP_AFTER:-}" == configure ]]; then
  step "configured (STOP_AFTER=configure)"
  exit 0
fi
step "building flakescope with $jobs jobs"
cmake --build "$build" --target flakescope flakescope-torch-faults -- -j "$jobs"
cli="$build/flakescope"
[[ -x "$cli" ]] || cli="$(find "$build" -type f -name flakescope -perm -u+x | head -n1)"
# A second C++ runtime in the executable shows as std::locale defined in it.
step "libstdc++ in $cli: $(ldd "$cli" | awk '/libstdc/ {print $3}'); std::locale symbols defined in it: $(nm -D --defined-only "$cli" 2>/dev/null | grep -c '_ZNSt6locale' || true)"
if [[ "${STOP_AFTER:-}" == build ]]; then
  step "built $cli (STOP_AFTER=build)"
  exit 0
fi
fi
export LD_LIBRARY_PATH="$multiarch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# One libcublas in the process: the raw SGEMM probe links the toolkit's, torch loads its wheel's;
# both have the same soname and the first loaded wins, so put the wheel's first (torch may need
# its newer symbols; cublasSgemm is in both).
site="$("$python" -c 'import os, torch; print(os.path.dirname(os.path.dirname(torch.__file__)))' \
  2>/dev/null || true)"
cublas="$([[ -n "$site" ]] && find "$site/nvidia" -name 'libcublas.so.*' 2>/dev/null | head -n1 || true)"
if [[ -n "$cublas" ]]; then
  export LD_LIBRARY_PATH="$(dirname "$cublas"):$LD_LIBRARY_PATH"
  step "libcublas from $cublas"
fi
built=$(date +%s)

# --- 3. the study ---------------------------------------------------------------------------
versions="$("$python" - <<'PY'
import re, subprocess, torch
def clean(s): return re.sub(r"[^A-Za-z0-9.]+", "-", s).strip("-")
gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no-gpu"
try:
    driver = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                            capture_output=True, text=True).stdout.split("\n")[0].strip() or "unknown"
except OSError:
    driver = "unknown"
print(f"{clean(gpu)}_driver-{clean(driver)}_cuda-{clean(str(torch.version.cuda))}"
      f"_torch-{clean(torch.__version__)}")
PY
)"
report="$out/reports/gpu/$versions.json"
"$python" -c 'import torch; print(torch.use_deterministic_algorithms.__doc__)' \
  > "$out/documented_list.txt"
nvidia-smi > "$out/nvidia-smi.txt" 2>&1 || true
"$python" "$root/scripts/gpu_python_check.py" > "$out/python_checks.txt" 2>&1 || true
step "probing suite '$suite' on cuda, settings ablation, $runs runs -> $report"
status=0
"$cli" probe --suite "$suite" --device cuda --settings ablation --runs "$runs" \
  --jobs "${PROBE_JOBS:-8}" --timeout "${PROBE_TIMEOUT:-180}" --out "$report" || status=$?
probed=$(date +%s)
if [[ -f "$report" ]]; then
  "$cli" report "$report" --format md --out "${report%.json}.md"
  step "markdown: ${report%.json}.md"
fi

# --- 5. the TF32 shift table ----------------------------------------------------------------
# "shift vs controlled" of free:tf32 for the matmul/linear/conv probes, as the README tables
# show it; a missing shift (the controlled setting ran in another worker, or the probe failed) is
# written as such, never left out.
if [[ -f "$report" ]]; then
  "$python" - "$report" "${report%.json}.tf32_shift.md" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
rows = []
for p in report["probes"]:
    if not any(k in p["name"] for k in ("matmul", "linear", "conv")):
        continue
    for s in p["settings"]:
        if s["setting"] != "free:tf32":
            continue
        for out, m in s.get("metrics", {}).items():
            sh = m.get("shift_from_controlled")
            if sh is None:
                rows.append(f"| `{p['name']}` | {out} | not measured ({s.get('verdict')}) | | |")
            elif not sh.get("comparable", True):
                rows.append(f"| `{p['name']}` | {out} | shape differs | | |")
            else:
                rows.append(f"| `{p['name']}` | {out} | {sh['max_abs']:.3g} | {sh['max_rel']:.3g} "
                            f"| {sh['max_ulp']:.0f} |")
with open(sys.argv[2], "w") as f:
    f.write("| probe | output | TF32 shift max abs | max rel | max ULP |\n|---|---|---|---|---|\n")
    f.write("\n".join(rows) + "\n")
print(f"tf32 shift: {len(rows)} rows -> {sys.argv[2]}")
PY
fi

# --- 6. the determinism gate on CUDA --------------------------------------------------------
gate_repeats="${GATE_REPEATS:-10}"
gate_runs="${GATE_RUNS:-$runs}"
if ((gate_repeats > 0)) && [[ -f "$report" ]]; then
  gate_dir="$out/gate"
  mkdir -p "$gate_dir" "$out/reports/baselines"
  series="$("$python" -c 'import torch; print(".".join(torch.__version__.split(".")[:2]))')"
  gpu_name="$(echo "$versions" | cut -d_ -f1)"
  baseline_name="cuda-$gpu_name-libtorch-$series.json"
  baseline="$root/reports/baselines/$baseline_name"
  if [[ ! -f "$baseline" ]]; then
    # First run on this GPU and LibTorch: the study's own report is the baseline (same suite,
    # settings and runs as the gate's suite runs when GATE_RUNS = RUNS). Commit it from OUTDIR.
    baseline="$out/reports/baselines/$baseline_name"
    cp "$report" "$baseline"
    step "no committed baseline: created $baseline from $report (commit it)"
  fi
  engine_dir="$(dirname "$cli")"
  faults="$engine_dir/flakescope-torch-faults"
  probe_args=(--probe-arg=--device=cuda --probe-arg=--settings=ablation
              "--probe-arg=--runs=$gate_runs" "--probe-arg=--jobs=${PROBE_JOBS:-8}"
              "--probe-arg=--timeout=${PROBE_TIMEOUT:-180}")
  gate_once() {  # gate_once NAME [ENV...]: one gate run; prints its exit status
    local name=$1 rc=0
    shift
    env "$@" "$cli" gate --baseline "$baseline" --policy "$root/reports/policy/default.json" \
      --run-suite cuda "${probe_args[@]}" --out "$gate_dir/$name.json" \
      > "$gate_dir/$name.txt" 2>&1 || rc=$?
    echo "$rc"
  }
  t0=$(date +%s)
  regression_rc="not run ($faults missing)"
  if [[ -x "$faults" ]]; then
    step "gate: deliberate regression (cuda/ops/randn_explicit on the unseeded CUDA generator)"
    regression_rc=$(gate_once regression FLAKESCOPE_ENGINE="$faults" \
      FLAKESCOPE_TEST_INJECT=unseeded-generator:cuda/ops/randn_explicit)
  fi
  false_failures=0 errors=0
  for i in $(seq 1 "$gate_repeats"); do
    rc=$(gate_once "repeat-$i")
    step "gate: unchanged build, run $i of $gate_repeats: exit $rc"
    if [[ $rc == 1 ]]; then false_failures=$((false_failures + 1)); fi
    if [[ $rc != 0 && $rc != 1 ]]; then errors=$((errors + 1)); fi
  done
  t1=$(date +%s)
  {
    echo "baseline: $baseline"
    echo "deliberate regression: exit $regression_rc (1 expected: the gate fails)"
    echo "unchanged build: $false_failures false failures in $gate_repeats gate runs, $errors errors"
    echo "gate runs took $((t1 - t0)) s for $((gate_repeats + 1)) runs"
  } | tee "$gate_dir/summary.txt"
  if [[ $regression_rc != 1 || $false_failures != 0 || $errors != 0 ]]; then
    step "gate study FAILED (see $gate_dir)"
    [[ $status == 0 || $status == 1 ]] && status=4
  fi
fi
step "done: build $((built - start)) s, probe run $((probed - built)) s, exit $status"
exit "$status"
