#!/usr/bin/env bash
# bench/startup: sidecar spawn -> READY (median of 10, baseline: the same code from the venv) and,
# on a release build of the app under Xvfb, app launch -> spinner visible and -> UI connected
# (median of 5), with connected as a multiple of the sidecar's READY time from the same run.
# --freeze-modes also builds the onefile variant and compares it with onedir. Builds what is
# missing first. Results: bench/results/startup-*.json (and freeze-modes.json).
source "$(dirname "$0")/../../scripts/lib.sh"
ensure_test_tools
ensure_sidecar_built; ensure_web_built
log "tauri: building the release app (no bundle)"
(cd "$ROOT" && "$ROOT/web/node_modules/.bin/tauri" build --no-bundle --ci) >&2
RELEASE_BIN="$CARGO_TARGET_DIR/release/sage-desktop"
[ -x "$RELEASE_BIN" ] || die "the build did not produce $RELEASE_BIN"
results="$ROOT/bench/results"
cd "$ROOT/bench/startup"
"$PY" sidecar_ready.py "$ROOT" "$results/startup-sidecar.json" 10
xvfb-run -a -s "-screen 0 1280x800x24" node app_connected.mjs "$RELEASE_BIN" "$results/startup-app.json" 5 "$results/startup-sidecar.json"
if [ "${1:-}" = "--freeze-modes" ]; then
  "$PY" freeze_modes.py "$ROOT" "$results/freeze-modes.json" 10
fi
