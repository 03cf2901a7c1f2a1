#!/usr/bin/env bash
# `cmake --install` end to end: installs BUILD_DIR into a temporary prefix, checks the layout, moves
# the prefix elsewhere (the binaries must find their data relative to themselves, not through a
# path compiled in), builds a consumer project with find_package(flakescope) that links
# flakescope::capture into a GoogleTest using FLAKESCOPE_EXPECT_CLOSE, and audits it with
# --capture using the installed binary. Then audits a pytest test with --capture and checks that
# the plugin came from the prefix.
#
#   tests/install/install_test.sh BUILD_DIR        (ctest: install_consumer, labels slow;install)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="$(cd "${1:?usage: install_test.sh BUILD_DIR}" && pwd)"
python=/usr/bin/python3
work="$(mktemp -d "${TMPDIR:-/tmp}/flakescope-install-test.XXXXXX")"
trap 'rm -rf "$work"' EXIT
fail() { echo "install_test: FAIL: $*" >&2; exit 1; }
step() { echo "install_test: $*"; }

step "cmake --install $build --prefix $work/stage"
cmake --install "$build" --prefix "$work/stage" >"$work/install.log" || { cat "$work/install.log" >&2; fail "cmake --install"; }
# Moved after installing: nothing may point back at the stage folder or at the sources.
mv "$work/stage" "$work/prefix"
prefix="$work/prefix"
libdir=lib
[[ -d $prefix/lib64 && ! -d $prefix/lib/cmake ]] && libdir=lib64
for f in bin/flakescope bin/flakescope-torch share/flakescope/pytest/flakescope_pytest.py \
         share/flakescope/pytest/flakescope_capture.py share/flakescope/pytest/flakescope_native.py \
         share/flakescope/pytest/libflakescope_measure.so share/flakescope/policy/default.json \
         share/flakescope/schema/report.schema.json include/flakescope/capture.h \
         include/flakescope/version.h "$libdir/cmake/flakescope/flakescopeConfig.cmake" \
         "$libdir/cmake/flakescope/flakescopeConfigVersion.cmake"; do
  [[ -e $prefix/$f ]] || fail "$f not installed"
done
ls "$prefix/$libdir"/libflakescope_capture.so* >/dev/null 2>&1 || fail "libflakescope_capture.so not installed"
"$prefix/bin/flakescope" --version >/dev/null || fail "the installed flakescope does not start"
# flakescope execs the engine beside it.
"$prefix/bin/flakescope" list >"$work/list.txt" 2>&1 || { cat "$work/list.txt" >&2; fail "flakescope list (the installed engine)"; }
grep -q 'ops/' "$work/list.txt" || fail "flakescope list shows no probes"

step "consumer project: find_package(flakescope) + flakescope::capture"
torch_dir="$(sed -n 's/^Torch_DIR:[A-Z]*=//p' "$build/CMakeCache.txt")"
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S "$here/consumer" -B "$work/consumer" "${generator[@]}" "${launcher[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix" -DTorch_DIR="$torch_dir" \
  $(sed -n 's/^CMAKE_EXE_LINKER_FLAGS:[A-Z]*=\(.\+\)$/-DCMAKE_EXE_LINKER_FLAGS=\1/p' "$build/CMakeCache.txt") \
  >"$work/consumer-configure.log" 2>&1 || { tail -n 40 "$work/consumer-configure.log" >&2; fail "consumer configure"; }
grep -q "consumer: flakescope 0\." "$work/consumer-configure.log" || fail "find_package(flakescope) gave no version"
cmake --build "$work/consumer" >"$work/consumer-build.log" 2>&1 || { tail -n 40 "$work/consumer-build.log" >&2; fail "consumer build"; }

step "installed flakescope audit --capture of the consumer's gtest"
cd "$work"
status=0
"$prefix/bin/flakescope" audit --runs 4 --capture --out consumer-audit.json -- "$work/consumer/consumer_test" \
  >consumer-audit.txt 2>&1 || status=$?
[[ $status -le 1 ]] || { cat consumer-audit.txt >&2; fail "audit of the consumer exited $status"; }
"$python" - consumer-audit.json <<'PY' || fail "the consumer audit has no captured FLAKESCOPE_EXPECT_CLOSE"
import json, sys
report = json.load(open(sys.argv[1]))
sites = [a for a in report.get("assertions", []) if "consumer_test.cpp:" in a.get("site", "")]
assert sites, "no assertion at consumer_test.cpp in %r" % [a.get("site") for a in report.get("assertions", [])]
calls = sites[0].get("calls", sites[0].get("trials"))
print("install_test: captured", sites[0]["site"], "api", sites[0].get("api"), "calls", calls)
PY

step "installed flakescope audit --capture of a pytest test: the plugin from share/flakescope"
mkdir -p "$work/py"
cat >"$work/py/test_where.py" <<'PY'
import os

import flakescope_native
import flakescope_pytest
import numpy as np


def test_close():
    np.testing.assert_allclose(np.ones(3) + 1e-9, np.ones(3), rtol=1e-6)
    with open(os.environ["WHERE_FILE"], "w") as f:
        f.write(os.path.realpath(flakescope_pytest.__file__) + "\n" + flakescope_native.status())
PY
cd "$work/py"
status=0
env -u PYTHONPATH -u FLAKESCOPE_PYTHONPATH WHERE_FILE="$work/where.txt" \
  "$prefix/bin/flakescope" audit --runs 2 --capture --out py-audit.json -- "$python" -m pytest -q -p no:cacheprovider test_where.py \
  >py-audit.txt 2>&1 || status=$?
[[ $status -eq 0 ]] || { cat py-audit.txt >&2; fail "audit of the pytest test exited $status"; }
where="$(sed -n 1p "$work/where.txt")"
measurement="$(sed -n 2p "$work/where.txt")"
[[ $where == "$(realpath "$prefix")/share/flakescope/pytest/flakescope_pytest.py" ]] \
  || fail "the plugin was loaded from $where, not from the install prefix"
[[ $measurement == "native ($(realpath "$prefix")/share/flakescope/pytest/libflakescope_measure.so)" ]] \
  || fail "the capture measured with '$measurement', not the installed native library"
"$python" -c 'import json,sys; r=json.load(open(sys.argv[1])); assert any("test_where.py:" in a["site"] for a in r["assertions"]), r.get("assertions")' \
  py-audit.json || fail "no capture of the pytest assertion"
step "ok: plugin from $where, measurement $measurement"
