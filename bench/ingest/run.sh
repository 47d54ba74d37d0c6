#!/usr/bin/env bash
# bench/ingest: knowledge-base ingest throughput vs the raw offline embedder, and sidecar RSS
# before and after the embedder loads. Results: bench/results/ingest.json
source "$(dirname "$0")/../../scripts/lib.sh"
ensure_venv
ensure_sidecar_built
"$PY" "$ROOT/bench/ingest/bench_ingest.py" "$ROOT" "$ROOT/bench/results/ingest.json"
# The embedder's effect on the event loop, onnxruntime on all cores vs 1 thread:
# bench/results/ingest_loop.json
"$PY" "$ROOT/bench/ingest/bench_loop.py" "$ROOT" "$ROOT/bench/results/ingest_loop.json"
