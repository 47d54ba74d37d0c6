#!/usr/bin/env bash
# bench/hostile: /api/health latency (event-loop lag) while a hostile corpus is ingested and
# attached; every hostile file must fail with its reason, the others end ready.
# Results: bench/results/hostile.json
source "$(dirname "$0")/../../scripts/lib.sh"
ensure_venv
ensure_sidecar_built
"$PY" "$ROOT/bench/hostile/bench_hostile.py" "$ROOT" "$ROOT/bench/results/hostile.json"
