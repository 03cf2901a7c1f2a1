#!/usr/bin/env bash
# Downloads (does not install) the Debian packages that scripts/gpu_study.sh unpacks on the GPU
# machine, which has LibTorch (in its python3's torch), nvcc, cmake and ninja but no package
# registry. Runs HERE, on a Debian 12 machine with apt; writes the .deb files into .deps/ (git
# ignores it) and lists them with their checksums in .deps/MANIFEST.
#
#   scripts/fetch_gpu_deps.sh            # then carry .deps/ to the GPU machine with the tree
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
deps="$root/.deps"

# Headers and CMake configs of everything flakescope's CMakeLists finds besides LibTorch and CUDA:
# Boost (BoostConfig + headers, Boost.Math is header-only) and Boost.Program_options (linked
# statically on the GPU machine), Eigen, nlohmann_json, pugixml (+ its shared library).
packages=(
  libboost1.74-dev
  libboost-program-options1.74-dev
  libboost-program-options1.74.0
  libeigen3-dev
  nlohmann-json3-dev
  libpugixml-dev
  libpugixml1v5
)

mkdir -p "$deps"
cd "$deps"
# apt-get download runs as the _apt user when it can: a folder it may write into avoids the
# "couldn't be accessed by user '_apt'" warning.
chmod 0777 "$deps" 2>/dev/null || true
apt-get download "${packages[@]}"
sha256sum ./*.deb > MANIFEST
echo "fetch_gpu_deps: $(ls ./*.deb | wc -l) packages in $deps ($(du -sh . | cut -f1))"
