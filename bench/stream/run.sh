#!/usr/bin/env bash
# bench/stream: provider -> sidecar -> WebSocket client vs. the provider read directly.
# Results: bench/results/stream.json
source "$(dirname "$0")/../../scripts/lib.sh"
ensure_venv
ensure_sidecar_built
"$PY" "$ROOT/bench/stream/bench_stream.py" "$ROOT" "$ROOT/bench/results/stream.json"
