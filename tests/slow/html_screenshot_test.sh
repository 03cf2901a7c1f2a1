#!/usr/bin/env bash
# The HTML reports opened in a real browser: headless Chromium screenshots the page of a real probe
# run and of a real audit (flaky, crashing and stable tests of the gtest fixture); each PNG must
# be a real image, as wide as the window, and not blank. "Blank" is judged against a screenshot of
# an empty page taken the same way (PNG compresses a uniform page to almost nothing, so a report's
# screenshot must be several times larger). Skipped (77) without chromium or
# chromium-headless-shell (Debian: apt-get install chromium); never installed by setup.
#
#   tests/slow/html_screenshot_test.sh FLAKESCOPE GTEST_FIXTURE
#
# env: FLAKESCOPE_SCREENSHOT_DIR keeps the reports and PNGs there (to look at them) instead of a
#      scratch folder that is removed.
set -euo pipefail
cli=${1:?usage: html_screenshot_test.sh FLAKESCOPE GTEST_FIXTURE}
fixture=${2:?usage: html_screenshot_test.sh FLAKESCOPE GTEST_FIXTURE}
cli=$(readlink -f "$cli")
fixture=$(readlink -f "$fixture")

chromium=""
for c in chromium chromium-headless-shell chromium-browser google-chrome; do
  if command -v "$c" >/dev/null 2>&1; then chromium=$(command -v "$c"); break; fi
done
if [[ -z $chromium ]]; then
  echo "html_screenshot_test: SKIP: no chromium or chromium-headless-shell on PATH"
  exit 77
fi

if [[ -n ${FLAKESCOPE_SCREENSHOT_DIR:-} ]]; then
  dir=$FLAKESCOPE_SCREENSHOT_DIR
  mkdir -p "$dir"
else
  dir=$(mktemp -d "${TMPDIR:-/tmp}/flakescope-screenshot-XXXXXX")
  trap 'rm -rf "$dir"' EXIT
fi
export GITHUB_STEP_SUMMARY=  # the CI's step summary stays out of it

# A headless browser of its own: profile and crash dumps in the scratch folder, no first-run UI.
shot() {
  local html=$1 png=$2
  HOME="$dir/home" timeout 120 "$chromium" --headless --no-sandbox --disable-gpu \
    --hide-scrollbars --no-first-run --user-data-dir="$dir/profile" \
    --window-size=1280,2000 --screenshot="$png" "file://$html" >"$dir/chromium.log" 2>&1 || {
    tail -n 20 "$dir/chromium.log" >&2
    return 1
  }
  [[ -s $png ]] || { echo "html_screenshot_test: no screenshot $png" >&2; return 1; }
}

size() { stat -c %s "$1"; }

# PNG signature and IHDR width (bytes 16..19, big-endian).
png_width() {
  local sig
  sig=$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')
  [[ $sig == 89504e470d0a1a0a ]] || { echo 0; return; }
  od -An -tu1 -j16 -N4 "$1" | awk '{print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4}'
}

check() {
  local name=$1 png=$2 blank=$3 width bytes
  width=$(png_width "$png")
  bytes=$(size "$png")
  echo "html_screenshot_test: $name: $png, ${width}px wide, $bytes bytes (empty page: $blank bytes)"
  [[ $width -eq 1280 ]] || { echo "html_screenshot_test: $name: not a 1280-px PNG" >&2; return 1; }
  (( bytes > 5 * blank )) || { echo "html_screenshot_test: $name: looks blank" >&2; return 1; }
}

printf '<!DOCTYPE html>\n<html><body></body></html>\n' >"$dir/blank.html"
shot "$dir/blank.html" "$dir/blank.png"
blank=$(size "$dir/blank.png")

# A probe report with findings (a racy sum, threads moving a large sum) and the default suite's
# stable one (a small matmul).
"$cli" probe calibration/racy_sum ops/sum_large ops/matmul_small --runs 60 --out "$dir/probe.json" \
  >"$dir/probe.txt" 2>&1 || [[ $? -eq 1 ]]
"$cli" report "$dir/probe.json" --format html --out "$dir/probe.html"
shot "$dir/probe.html" "$dir/probe.png"

# An audit with flaky, crashing and stable tests of the gtest fixture.
(cd "$dir" && "$cli" audit --runs 30 --jobs 2 --out "$dir/audit.json" -- "$fixture" \
  '--gtest_filter=Stable.*:Seeded.FailsWhen*:Seeded.Aborts*' >"$dir/audit.txt" 2>&1) || [[ $? -eq 1 ]]
"$cli" report "$dir/audit.json" --format html --out "$dir/audit.html"
shot "$dir/audit.html" "$dir/audit.png"

status=0
check probe "$dir/probe.png" "$blank" || status=1
check audit "$dir/audit.png" "$blank" || status=1
exit $status
