#!/usr/bin/env bash
# Install whatever is missing, build, and run every test layer:
#   lint (scripts/lint.sh: rustfmt, clippy, mypy, ruff, eslint, vue-tsc) · python (pytest)
#   · fuzz (schemathesis against a real sidecar)
#   · web (vitest) · workflows (scripts/check-release.sh) · frozen-smoke (scripts/smoke-sidecar.py)
#   · rust (cargo test) · browser E2E (Chromium)
#   · desktop E2E (tauri-driver) · package (.deb install test) · update (a build updates itself)
# The package and update layers (scripts/test-package.sh, test-update.sh) run when CI=true or
# SAGE_TEST_PACKAGE=1, and are skipped with SAGE_TEST_PACKAGE=0: they build the release bundle and
# install it with dpkg.
#
# Every layer and every build step runs under a time limit: a hang ends as a failure naming the
# layer. A build step that fails counts as a failed layer with its reason, and the layers that
# need its output do not run (never against an older build). Exits non-zero if any layer fails;
# whatever happens, the last line is "layers: N passed, N failed".
source "$(dirname "$0")/lib.sh"

passed=0; failed=0; failures=(); failed_logs=()
stage=setup   # setup, then the name of the layer or build step running, then done
layer_pid=
summary() {
  local status=$?
  case "$stage" in
    done) ;;
    setup) failed=$((failed + 1)); failures+=("setup (an install step failed, exit $status: see above)") ;;
    *) failed=$((failed + 1)); failures+=("$stage (interrupted)") ;;
  esac
  explain_failures
  if [ ${#failures[@]} -gt 0 ]; then
    local list
    printf -v list '%s; ' "${failures[@]}"
    log "failed layers: ${list%; }"
  fi
  echo "layers: $passed passed, $failed failed"
  [ "$failed" -eq 0 ] && exit 0 || exit 1
}
trap summary EXIT
# CI keeps only the end of the output: repeat, just above the summary, the lines of each failed
# layer's log that say why (failing tests, errors, tracebacks' last lines), then the log's tail.
explain_failures() {
  local logfile
  for logfile in "${failed_logs[@]}"; do
    [ -f "$logfile" ] || continue
    printf '\n\033[1;31m---- why %s failed (%s) ----\033[0m\n' "$(basename "$logfile" .log)" "$logfile" >&2
    sed 's/\x1b\[[0-9;]*[A-Za-z]//g' "$logfile" \
      | grep -E 'FAIL|Error|error[:\[]|✖|×|not ok|panicked|Timeout|timed out|assert' \
      | grep -vE '^\s*$|^\s*✓' | cut -c1-300 | tail -n 30 >&2 || true
    printf -- '---- last lines ----\n' >&2
    sed 's/\x1b\[[0-9;]*[A-Za-z]//g' "$logfile" | cut -c1-300 | tail -n 12 >&2
  done
}
# A layer runs in its own process group (timeout's), which the terminal's Ctrl+C does not reach:
# pass it on, so the layer's processes (apps, Xvfb, sidecars) end with us.
interrupted() {
  [ -z "$layer_pid" ] || kill -TERM "$layer_pid" 2>/dev/null || true
  [ -z "$layer_pid" ] || wait "$layer_pid" 2>/dev/null || true
  exit 130
}
trap interrupted INT TERM HUP

# step KIND NAME MINUTES COMMAND...: run COMMAND under a limit of MINUTES (then SIGTERM to its whole
# process group, SIGKILL 30 s later). KIND layer counts a pass or a failure; KIND build counts only
# a failure. Sets step_ok to 1 or 0.
step() {
  local kind="$1" name="$2" minutes="$3"; shift 3
  local label="$name"
  if [ "$kind" = build ]; then label="build: $name"; fi
  log "$kind: $name (time limit $minutes min)"
  stage="$label"
  local status=0 started=$SECONDS
  # The output goes to the terminal and to the layer's log, which explain_failures reads.
  local logfile="$SAGE_TEST_ARTIFACTS/layers/${label//[^A-Za-z0-9_-]/_}.log"
  mkdir -p "${logfile%/*}"
  timeout --kill-after=30 "${minutes}m" "$@" > >(tee "$logfile") 2>&1 &
  layer_pid=$!
  wait "$layer_pid" || status=$?
  layer_pid=
  stage="between layers"
  step_ok=0
  if [ "$status" -eq 0 ]; then
    step_ok=1
    if [ "$kind" = layer ]; then passed=$((passed + 1)); fi
    log "$label: done in $((SECONDS - started)) s"
    return 0
  fi
  failed=$((failed + 1)); failed_logs+=("$logfile")
  if [ $((SECONDS - started)) -ge $((minutes * 60)) ] && { [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; }; then
    printf '\033[1;31mTIMEOUT:\033[0m %s did not finish in %s min and was stopped\n' "$label" "$minutes" >&2
    failures+=("$label (timed out after $minutes min)")
  elif [ "$kind" = build ]; then
    printf '\033[1;31mFAIL:\033[0m %s failed (exit %s)\n' "$label" "$status" >&2
    failures+=("$label (exit $status)")
  else
    failures+=("$label")
  fi
}
layer() { step layer "$@"; }
build() { step build "$@"; }
# not_run NAME REASON: a layer that cannot run because what it needs failed to build.
not_run() {
  log "layer: $1 not run: $2"
  failed=$((failed + 1)); failures+=("$1 (not run: $2)")
}
# Runs a lib.sh function in a fresh shell, where its `set -e` and `die` work and end only that shell.
export SAGE_TEST_ARTIFACTS="$ROOT/test-artifacts"
LIB=(bash -c 'source "$1/scripts/lib.sh"; shift; "$@"' _ "$ROOT")

# Everything runs from main, which bash reads whole before running: editing this file while a run
# is under way cannot change what that run does next.
main() {
  ensure_test_tools

  export SAGE_SIDECAR_PYTHON="$PY"  # tests that need the dev-mode sidecar use the project venv
  XVFB=(xvfb-run -a -s "-screen 0 1280x800x24")

  # The shell's build (clippy, cargo test, tauri build) needs the externalBin and the sidecar's
  # resource folder, so the frozen sidecar comes first; it is rebuilt only when its sources change.
  build sidecar 30 "${LIB[@]}" ensure_sidecar_built; sidecar_ok=$step_ok
  layer lint 30 "$ROOT/scripts/lint.sh" --no-setup
  layer python 30 bash -c "cd '$ROOT/src-python' && '$PY' -m pytest -q tests ../scripts/tests"
  # Requests generated from the OpenAPI schema (schemathesis, fixed seed) against a real sidecar:
  # no 5xx, no undeclared status, no body off its schema (src-python/tests/fuzz/run_fuzz.py).
  layer fuzz 5 bash -c "cd '$ROOT/src-python' && '$PY' tests/fuzz/run_fuzz.py --report-dir '$SAGE_TEST_ARTIFACTS/fuzz'"
  layer web 10 bash -c "'$ROOT/scripts/api-types.sh' --check && cd '$ROOT/web' && npx vitest run"
  layer workflows 5 "$ROOT/scripts/check-release.sh"
  # The frozen sidecar run as the shell runs it, through the launcher (READY, keyed health, the
  # parent killed); ci.yml's macOS and Windows jobs run the same script on their own builds.
  if [ "$sidecar_ok" = 1 ]; then
    layer frozen-smoke 3 "$PY" "$ROOT/scripts/smoke-sidecar.py"
  else
    not_run frozen-smoke "the sidecar did not build"
  fi
  # cargo test builds the app binary without the embedded UI; the E2E build below replaces it,
  # so the E2E layers must come after this one.
  layer rust 40 "${XVFB[@]}" cargo test --workspace

  build UI 10 "${LIB[@]}" ensure_web_built; ui_ok=$step_ok
  if [ "$ui_ok" = 1 ]; then
    layer browser-e2e 15 bash -c "cd '$ROOT/web' && npm run --silent test:e2e:browser"
  else
    not_run browser-e2e "the UI did not build"
  fi
  local no_app=
  if [ "$sidecar_ok" != 1 ]; then no_app="the sidecar did not build"; fi
  if [ "$ui_ok" != 1 ]; then no_app="the UI did not build"; fi
  if [ -z "$no_app" ]; then
    build app 40 "${LIB[@]}" build_app
    if [ "$step_ok" != 1 ]; then no_app="the app did not build"; fi
  fi
  if [ -z "$no_app" ]; then
    # Each test file starts its own D-Bus session (web/e2e/desktop/app.mjs): single instance hands
    # over through it, and the tray and notification tests run a watcher and a notification server
    # on it (docs/desktop.md).
    layer desktop-e2e 20 "${XVFB[@]}" env SAGE_APP_BIN="$APP_BIN" \
      bash -c "cd '$ROOT/web' && npm run --silent test:e2e:desktop"
  else
    not_run desktop-e2e "$no_app"
  fi

  if [ "${SAGE_TEST_PACKAGE:-$([ "${CI:-}" = true ] && echo 1 || echo 0)}" = 1 ]; then
    # A layer cannot ask for a password (it runs in the background of the terminal): ask now.
    if [ "$(id -u)" -ne 0 ]; then sudo -v || log "sudo: no password given; the package layers will fail"; fi
    layer package 45 "$ROOT/scripts/test-package.sh"
    layer update 45 "$ROOT/scripts/test-update.sh"
  else
    log "layer: package and update skipped (set SAGE_TEST_PACKAGE=1 to build and install the .deb)"
  fi
  stage=done
}
main "$@"; exit
