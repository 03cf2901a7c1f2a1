#!/usr/bin/env bash
# `pip install ./integrations/pytest` end to end, in a fresh virtual environment (with the system's
# site packages: Debian's pytest, numpy and torch; offline: --no-build-isolation with Debian's
# setuptools): one pytest11 entry point named like the module, no "Plugin already registered"
# whether pytest loads it by entry point, by `-p flakescope_pytest`, or both, and audits that use
# the installed plugin (a flakescope binary with no plugin beside it) or the binary's own copy.
#
#   tests/install/pip_plugin_test.sh BUILD_DIR        (ctest: install_pip_plugin, labels slow;install)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="$(cd "${1:?usage: pip_plugin_test.sh BUILD_DIR}" && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/flakescope-pip-test.XXXXXX")"
trap 'rm -rf "$work"' EXIT
fail() { echo "pip_plugin_test: FAIL: $*" >&2; exit 1; }
step() { echo "pip_plugin_test: $*"; }

step "venv + pip install integrations/pytest"
/usr/bin/python3 -m venv --system-site-packages "$work/venv"
py="$work/venv/bin/python"
# From a copy: setuptools writes build/ and *.egg-info next to the sources it builds.
cp -r "$root/integrations/pytest" "$work/plugin-src"
"$py" -m pip install -q --no-build-isolation --no-deps --no-index "$work/plugin-src" >"$work/pip.log" 2>&1 \
  || { cat "$work/pip.log" >&2; fail "pip install"; }

"$py" - "$root/CMakeLists.txt" <<'PY' || fail "entry point or version"
import re, sys
from importlib import metadata
dist = metadata.distribution("flakescope-pytest")
eps = [e for e in dist.entry_points if e.group == "pytest11"]
assert [(e.name, e.value) for e in eps] == [("flakescope_pytest", "flakescope_pytest")], eps
files = sorted(str(f) for f in dist.files if str(f).endswith(".py"))
assert "flakescope_pytest.py" in files and "flakescope_capture.py" in files, files
cmake_version = re.search(r"project\(flakescope VERSION ([0-9.]+)", open(sys.argv[1]).read()).group(1)
assert dist.version == cmake_version, (dist.version, cmake_version)
print("pip_plugin_test: flakescope-pytest", dist.version, "entry point", eps[0].name, "modules", files)
PY

mkdir -p "$work/proj"
cat >"$work/proj/test_where.py" <<'PY'
import os

import flakescope_pytest
import numpy as np


def test_close():
    if os.environ.get("WHERE_FILE"):
        with open(os.environ["WHERE_FILE"], "w") as f:
            f.write(os.path.realpath(flakescope_pytest.__file__))
    np.testing.assert_allclose(np.float64(1.0) + 1e-9, 1.0, rtol=1e-6)
PY
cd "$work/proj"
site="$(realpath "$("$py" -c 'import flakescope_pytest; print(flakescope_pytest.__file__)')")"
[[ $site == "$work"/venv/* ]] || fail "the venv imports the plugin from $site"

step "pytest with the entry point, with -p flakescope_pytest, and both active"
for args in "" "-p flakescope_pytest"; do
  # shellcheck disable=SC2086
  FLAKESCOPE_REPEAT=3 "$py" -m pytest -q -p no:cacheprovider $args test_where.py >"$work/pytest.txt" 2>&1 \
    || { cat "$work/pytest.txt" >&2; fail "pytest $args"; }
  grep -q "3 passed" "$work/pytest.txt" || { cat "$work/pytest.txt" >&2; fail "pytest $args: the plugin did not repeat the test"; }
done
"$py" -m pytest -p flakescope_pytest --trace-config -q -p no:cacheprovider test_where.py >"$work/trace.txt" 2>&1 || true
! grep -qi "already registered" "$work/trace.txt" || fail "Plugin already registered"

step "audit --capture with a flakescope that has no plugin beside it: the installed one"
mkdir -p "$work/bare/bin"
cp "$build/flakescope" "$work/bare/bin/"
for isolation in process inprocess; do
  rm -f "$work/where.txt"
  status=0
  env -u PYTHONPATH -u FLAKESCOPE_PYTHONPATH WHERE_FILE="$work/where.txt" "$work/bare/bin/flakescope" audit \
    --runs 3 --capture --isolation "$isolation" --out "audit-$isolation.json" -- "$py" -m pytest -q -p no:cacheprovider test_where.py \
    >"$work/audit.txt" 2>&1 || status=$?
  [[ $status -eq 0 ]] || { cat "$work/audit.txt" >&2; fail "audit ($isolation) exited $status"; }
  ! grep -qi "already registered" "$work/audit.txt" || fail "Plugin already registered ($isolation)"
  [[ "$(cat "$work/where.txt")" == "$site" ]] || fail "audit ($isolation) loaded $(cat "$work/where.txt"), not $site"
  /usr/bin/python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert any("test_where.py:" in a["site"] for a in r["assertions"]), r.get("assertions")' \
    "audit-$isolation.json" || fail "no capture ($isolation)"
done

step "audit --capture with the build tree's flakescope: its own copy first, the entry point skipped"
rm -f "$work/where.txt"
status=0
env -u PYTHONPATH -u FLAKESCOPE_PYTHONPATH WHERE_FILE="$work/where.txt" "$build/flakescope" audit \
  --runs 2 --capture --out audit-build.json -- "$py" -m pytest -q -p no:cacheprovider test_where.py \
  >"$work/audit.txt" 2>&1 || status=$?
[[ $status -eq 0 ]] || { cat "$work/audit.txt" >&2; fail "audit (build tree) exited $status"; }
[[ "$(cat "$work/where.txt")" == "$build/share/flakescope/pytest/flakescope_pytest.py" ]] \
  || fail "the build tree's audit loaded $(cat "$work/where.txt")"
step "ok"
