#!/usr/bin/env bash
# Install whatever is missing, build, and run every test layer:
#   python (ruff + pytest) · web (vitest) · workflows (actionlint) · rust (cargo test)
#   · browser E2E (Chromium) · desktop E2E (tauri-driver) · package (.deb install test)
# The package layer (scripts/test-package.sh) runs when CI=true or SAGE_TEST_PACKAGE=1, and is
# skipped with SAGE_TEST_PACKAGE=0: it builds the release bundle and installs it with dpkg.
# Exits non-zero if any layer fails; the last line is "layers: N passed, N failed".
source "$(dirname "$0")/lib.sh"

ensure_test_tools
ensure_sidecar_built  # the shell's build needs the externalBin and the sidecar resource folder

export SAGE_SIDECAR_PYTHON="$PY"  # tests that need the dev-mode sidecar use the project venv
export SAGE_TEST_ARTIFACTS="$ROOT/test-artifacts"
XVFB=(xvfb-run -a -s "-screen 0 1280x800x24")

passed=0; failed=0; failures=()
run_layer() {
  local name="$1"; shift
  log "layer: $name"
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("$name"); fi
}

run_layer python bash -c "cd '$ROOT/src-python' && '$PY' -m ruff check . ../scripts && '$PY' -m pytest -q tests ../scripts/tests"
run_layer web bash -c "'$ROOT/scripts/api-types.sh' --check && cd '$ROOT/web' && npx vue-tsc --noEmit && npx vitest run"
run_layer workflows node "$ROOT/scripts/lint-workflows.mjs"
# cargo test builds the app binary without the embedded UI; the E2E build below replaces it,
# so the E2E layers must come after this one.
run_layer rust "${XVFB[@]}" cargo test --workspace
if ensure_web_built && build_app; then
  run_layer browser-e2e bash -c "cd '$ROOT/web' && npm run --silent test:e2e:browser"
  # dbus-run-session: single-instance hands over through the session bus, and the tray and
  # notification tests run their own watcher and notification server on it (docs/desktop.md).
  run_layer desktop-e2e dbus-run-session -- "${XVFB[@]}" env SAGE_APP_BIN="$APP_BIN" \
    bash -c "cd '$ROOT/web' && npm run --silent test:e2e:desktop"
else
  failed=$((failed + 2)); failures+=("browser-e2e (build failed)" "desktop-e2e (build failed)")
fi

if [ "${SAGE_TEST_PACKAGE:-$([ "${CI:-}" = true ] && echo 1 || echo 0)}" = 1 ]; then
  run_layer package "$ROOT/scripts/test-package.sh"
  run_layer update "$ROOT/scripts/test-update.sh"
else
  log "layer: package skipped (set SAGE_TEST_PACKAGE=1 to build and install the .deb)"
fi

[ ${#failures[@]} -eq 0 ] || log "failed layers: ${failures[*]}"
echo "layers: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
