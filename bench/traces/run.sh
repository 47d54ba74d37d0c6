#!/usr/bin/env bash
# bench/traces: the streaming relay with trace recording on vs. off, in one run.
# Results: bench/results/trace-overhead.json
source "$(dirname "$0")/../../scripts/lib.sh"
ensure_venv
"$PY" "$ROOT/bench/traces/bench_traces.py" "$ROOT" "$ROOT/bench/results/trace-overhead.json"
