#!/usr/bin/env bash
# The static checks, each announced by name; all of them run, and the script fails if any failed:
#   rustfmt · clippy (warnings are errors) · mypy · ruff (lint and format) · eslint · vue-tsc
# scripts/test.sh runs this as its lint layer, with --no-setup (it has installed everything).
# Alone, it first installs what is missing and builds the frozen sidecar, which clippy needs:
# the shell's build script checks that its externalBin exists.
source "$(dirname "$0")/lib.sh"

if [ "${1:-}" != --no-setup ]; then
  ensure_apt
  ensure_rust
  ensure_rust_lint_tools
  ensure_venv
  ensure_npm
  ensure_sidecar_built
fi
cd "$ROOT"

failed=()
check() {  # check NAME COMMAND...: run one check; a failure is noted and the next check runs
  local name="$1"; shift
  log "lint: $name"
  "$@" || { printf '\033[1;31mFAIL:\033[0m lint: %s\n' "$name" >&2; failed+=("$name"); }
}

check rustfmt cargo fmt --all --check
check clippy cargo clippy --workspace --all-targets --quiet -- -D warnings
check mypy bash -c "cd '$ROOT/src-python' && '$PY' -m mypy"
check ruff bash -c "cd '$ROOT/src-python' && '$PY' -m ruff check . ../scripts ../bench"
check ruff-format bash -c "cd '$ROOT/src-python' && '$PY' -m ruff format --check . ../scripts ../bench"
check eslint bash -c "cd '$ROOT/web' && npm run --silent lint"
check vue-tsc bash -c "cd '$ROOT/web' && npx vue-tsc --noEmit"

if [ ${#failed[@]} -gt 0 ]; then
  log "lint: failed: ${failed[*]}"
  exit 1
fi
log "lint: every check passed"
