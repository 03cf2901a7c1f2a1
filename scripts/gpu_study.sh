#!/usr/bin/env bash
# The CUDA study of issue 7 in one call, on the GPU machine (PyTorch with CUDA in its python3, nvcc,
# cmake, ninja; no package registry):
#   1. unpacks the Debian packages from .deps/ (scripts/fetch_gpu_deps.sh fetched them) into a
#      prefix, with dpkg -x (or a Python ar/tar reader where dpkg is missing);
#   2. configures against the LibTorch inside python3's torch and that prefix, builds flakescope;
#   3. runs the CUDA suite under the ablation settings and renders the report as Markdown;
#   4. records what the documented list says on this torch version, and the environment.
#
#   scripts/gpu_study.sh [OUTDIR]          (OUTDIR defaults to $OUT, then ./out/gpu)
#   env: RUNS (default 20), PYTHON (python3), BUILD (build folder), JOBS (compile jobs),
#        PROBE_JOBS (probes at a time, default 8: each worker's CUDA start-up overlaps the others'),
#        SUITE (default cuda),
#        STOP_AFTER=configure (dry run of steps 1-2 on a machine without a GPU) or build,
#        FLAKESCOPE_CLI=path (skip the build and use that binary: tests step 3 without a GPU)
# Results: OUTDIR/reports/gpu/<gpu>_driver-<v>_cuda-<v>_torch-<v>.{json,md} plus study.log and
# documented_list.txt. Exit status: that of the probe run (0, or 1 when nondeterminism was found,
# which on a GPU is the expected outcome), or the failing step's.
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
  -DFLAKESCOPE_CUDA=ON -DFLAKESCOPE_TESTS=OFF -DFLAKESCOPE_BENCH=OFF \
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
cmake --build "$build" --target flakescope -- -j "$jobs"
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
step "done: build $((built - start)) s, probe run $((probed - built)) s, exit $status"
exit "$status"
