#!/usr/bin/env bash
# bench/startup: sidecar spawn -> READY (median of 10) and app launch -> UI connected (median of 5).
# Builds what is missing first. Results: bench/results/startup-*.json
source "$(dirname "$0")/../../scripts/lib.sh"
ensure_apt; ensure_rust; ensure_venv; ensure_npm; ensure_tauri_driver
ensure_sidecar_built; ensure_web_built; build_app
results="$ROOT/bench/results"
"$PY" "$ROOT/bench/startup/sidecar_ready.py" "$ROOT" "$results/startup-sidecar.json" 10
xvfb-run -a -s "-screen 0 1280x800x24" node "$ROOT/bench/startup/app_connected.mjs" "$APP_BIN" "$results/startup-app.json" 5
