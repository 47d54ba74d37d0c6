#!/usr/bin/env bash
# bench/startup: sidecar spawn -> READY (median of 10, baseline: the same code from the venv) and
# app launch -> UI connected (median of 5, under Xvfb). --freeze-modes also builds the onefile
# variant and compares it with onedir. Builds what is missing first.
# Results: bench/results/startup-*.json (and freeze-modes.json).
source "$(dirname "$0")/../../scripts/lib.sh"
ensure_test_tools
ensure_sidecar_built; ensure_web_built; build_app
results="$ROOT/bench/results"
cd "$ROOT/bench/startup"
"$PY" sidecar_ready.py "$ROOT" "$results/startup-sidecar.json" 10
xvfb-run -a -s "-screen 0 1280x800x24" node app_connected.mjs "$APP_BIN" "$results/startup-app.json" 5
if [ "${1:-}" = "--freeze-modes" ]; then
  "$PY" freeze_modes.py "$ROOT" "$results/freeze-modes.json" 10
fi
