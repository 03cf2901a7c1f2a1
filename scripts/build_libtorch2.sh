#!/usr/bin/env bash
# Builds flakescope against the LibTorch of a torch 2.x wheel from PyPI (CPU only) and runs the
# fast test tier on it, the dogfooding gate included (against reports/baselines/cpu-<arch>-libtorch-2.<m>.json).
#
#   scripts/build_libtorch2.sh [build|test]      (default: test = build, then ctest -LE slow)
#
# env: TORCH_VERSION (default 2.15.0; "latest" takes PyPI's newest 2.x), BUILD (default
#      build-libtorch2), DEPS (default .deps), JOBS (default nproc), PYTHON (default /usr/bin/python3),
#      NICE (default 10: the build is long; keep it from starving the machine)
#
# What it fetches (pip, from PyPI, cached under $DEPS; nothing is installed into any Python):
#   torch-<v>-cp3X-manylinux wheel --no-deps (~540 MB; the CUDA build, its nvidia-* dependencies
#   are gigabytes and not needed on the CPU), and the two CUDA libraries libtorch_cpu.so itself
#   loads, libcudart and libcupti (cuda-toolkit[cudart,cupti] at the version the wheel pins, 14 MB).
# Both are unpacked side by side so the wheel's RPATH ($ORIGIN/../../nvidia/cu13/lib) finds them.
# The build uses -DFLAKESCOPE_TORCH_CPU_ONLY=ON (cmake/TorchCpuOnly.cmake says why), the wheel's
# CMake prefix first in CMAKE_PREFIX_PATH, and C++20 (LibTorch 2.x's CMake package asks for it).
# Prints the measured download, configure, build and test times at the end.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
mode="${1:-test}"
case "$mode" in build|test) ;; *) echo "build_libtorch2.sh: unknown mode '$mode' (build|test)" >&2; exit 2 ;; esac
python="${PYTHON:-/usr/bin/python3}"
version="${TORCH_VERSION:-2.15.0}"
deps="$(mkdir -p "${DEPS:-$root/.deps}" && cd "${DEPS:-$root/.deps}" && pwd)"
build="${BUILD:-$root/build-libtorch2}"
jobs="${JOBS:-$(nproc)}"
nice_level="${NICE:-10}"
step() { echo "build_libtorch2 [$(date -u +%H:%M:%S)] $*"; }
now() { date +%s; }

# --- 1. the wheel and the two CUDA runtime libraries ------------------------------------------
t0=$(now)
spec="torch==$version"
[[ $version == latest ]] && spec="torch>=2,<3"
wheels="$deps/wheels"
mkdir -p "$wheels"
step "downloading $spec (no dependencies) into $wheels"
"$python" -m pip download -q --no-deps --only-binary :all: "$spec" -d "$wheels"
wheel="$(ls -t "$wheels"/torch-*.whl | head -n1)"
[[ $version == latest ]] && version="$(basename "$wheel" | cut -d- -f2)"
wheel="$(ls "$wheels"/torch-"$version"-*.whl | head -n1)"
prefix="$deps/libtorch-$version"
if [[ ! -f $prefix/.complete ]]; then
  rm -rf "$prefix"
  mkdir -p "$prefix"
  step "unpacking $(basename "$wheel") into $prefix"
  "$python" - "$wheel" "$prefix" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    z.extractall(sys.argv[2], [n for n in z.namelist() if n.startswith("torch/")])
PY
  # The CUDA toolkit version the wheel pins (Requires-Dist: cuda-toolkit[...]==X).
  cuda_spec="$("$python" - "$wheel" <<'PY'
import re, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
    for line in z.read(meta).decode().splitlines():
        m = re.match(r"Requires-Dist: cuda-toolkit\[[^\]]*\]\s*==\s*([0-9.]+)", line)
        if m:
            print("cuda-toolkit[cudart,cupti]==" + m.group(1))
            break
PY
)"
  if [[ -n $cuda_spec ]]; then
    step "downloading $cuda_spec"
    cuda_dir="$deps/wheels/cuda-$version"
    mkdir -p "$cuda_dir"
    "$python" -m pip download -q --only-binary :all: "$cuda_spec" -d "$cuda_dir"
    for w in "$cuda_dir"/nvidia_*.whl; do
      "$python" -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$w" "$prefix"
    done
  fi
  touch "$prefix/.complete"
fi
t_download=$(( $(now) - t0 ))

# --- 2. configure and build -------------------------------------------------------------------
t0=$(now)
torch_dir="$prefix/torch"
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
mkdir -p "$build"
configure_log="$build/configure.log"
step "configuring $build against $torch_dir"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" \
  -DCMAKE_PREFIX_PATH="$torch_dir/share/cmake;$torch_dir" \
  -DFLAKESCOPE_TORCH_CPU_ONLY=ON -DFLAKESCOPE_CUDA=OFF -DFLAKESCOPE_BENCH=OFF \
  -DCMAKE_EXE_LINKER_FLAGS=-Wl,--allow-shlib-undefined >"$configure_log" 2>&1 \
  || { tail -n 30 "$configure_log" >&2; exit 1; }
t_configure=$(( $(now) - t0 ))
t0=$(now)
step "building with $jobs jobs (nice $nice_level)"
nice -n "$nice_level" cmake --build "$build" -j "$jobs"
t_build=$(( $(now) - t0 ))

# --- 3. the fast tier on 2.x ------------------------------------------------------------------
t_test=0
status=0
if [[ $mode == test ]]; then
  t0=$(now)
  step "ctest -LE slow"
  ctest --test-dir "$build" -LE slow --output-on-failure --timeout 900 || status=$?
  t_test=$(( $(now) - t0 ))
fi
step "LibTorch $version: download+unpack ${t_download}s, configure ${t_configure}s, build ${t_build}s, tests ${t_test}s"
exit $status
