#!/usr/bin/env bash
# `pip install .` end to end (pyproject.toml, scikit-build-core): in a fresh virtual environment it
# builds the LibTorch-free flakescope, puts it on the environment's PATH with the pytest plugin, and
# an audit --capture through that binary loads the plugin from the environment. Needs PyPI for the
# isolated build environment (scikit-build-core); FLAKESCOPE_OFFLINE=1 reports the test skipped.
#
#   tests/install/pip_root_test.sh       (ctest: install_pip_package, labels slow;install)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if [[ -n ${FLAKESCOPE_OFFLINE:-} ]]; then echo "pip_root_test: offline, skipped"; exit 77; fi
work="$(mktemp -d "${TMPDIR:-/tmp}/flakescope-pip-root.XXXXXX")"
trap 'rm -rf "$work"' EXIT
fail() { echo "pip_root_test: FAIL: $*" >&2; exit 1; }
step() { echo "pip_root_test: $*"; }

/usr/bin/python3 -m venv --system-site-packages "$work/venv"
py="$work/venv/bin/python"
step "pip install $root (scikit-build-core, LibTorch-free build)"
t0=$(date +%s)
CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" "$py" -m pip install -q "$root" >"$work/pip.log" 2>&1 \
  || { tail -n 40 "$work/pip.log" >&2; fail "pip install ."; }
step "installed in $(( $(date +%s) - t0 )) s"
bin="$work/venv/bin/flakescope"
[[ -x $bin ]] || fail "no flakescope in the environment's bin/"
"$bin" --version || fail "flakescope --version"
[[ -f $work/venv/share/flakescope/pytest/flakescope_pytest.py ]] || fail "no share/flakescope/pytest"
[[ -f $work/venv/share/flakescope/pytest/libflakescope_measure.so ]] || fail "no native measurement in share/"
[[ -f $work/venv/share/flakescope/policy/default.json ]] || fail "no share/flakescope/policy"
"$py" - <<'PY' || fail "entry point"
from importlib import metadata
eps = [e for e in metadata.distribution("flakescope").entry_points if e.group == "pytest11"]
assert [(e.name, e.value) for e in eps] == [("flakescope_pytest", "flakescope_pytest")], eps
PY
# probe needs the LibTorch engine: a clear error, exit 2.
status=0
"$bin" probe --suite default >"$work/probe.txt" 2>&1 || status=$?
[[ $status -eq 2 ]] && grep -q "no LibTorch engine" "$work/probe.txt" || { cat "$work/probe.txt" >&2; fail "probe without the engine: exit $status"; }

mkdir -p "$work/proj"
cat >"$work/proj/test_where.py" <<'PY'
import os

import flakescope_native
import flakescope_pytest
import numpy as np


def test_close():
    np.testing.assert_allclose(np.ones(3) + 1e-9, np.ones(3), rtol=1e-6)
    with open(os.environ["WHERE_FILE"], "w") as f:
        f.write(os.path.realpath(flakescope_pytest.__file__) + "\n" + flakescope_native.status())
PY
cd "$work/proj"
status=0
env -u PYTHONPATH -u FLAKESCOPE_PYTHONPATH WHERE_FILE="$work/where.txt" PATH="$work/venv/bin:$PATH" \
  flakescope audit --runs 3 --capture --out audit.json -- python -m pytest -q -p no:cacheprovider test_where.py \
  >"$work/audit.txt" 2>&1 || status=$?
[[ $status -eq 0 ]] || { cat "$work/audit.txt" >&2; fail "audit exited $status"; }
where="$(sed -n 1p "$work/where.txt")"
measurement="$(sed -n 2p "$work/where.txt")"
[[ $where == "$(realpath "$work")"/venv/* ]] || fail "plugin loaded from $where"
[[ $measurement == "native ($(realpath "$work")/venv/"*"/libflakescope_measure.so)" ]] \
  || fail "the capture measured with '$measurement', not the environment's native library"
/usr/bin/python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert any("test_where.py:" in a["site"] for a in r["assertions"])' audit.json \
  || fail "no capture"
step "ok: plugin from $where, measurement $measurement"
