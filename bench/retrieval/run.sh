#!/usr/bin/env bash
# bench/retrieval: the vector engines over 100k chunks (bench_search.py), the sidecar's index at
# a million chunks against exact numpy (bench_million.py; MILLION_COUNT=100000 for a quick run —
# the 1M build takes ~20–40 min on 2 cores and ~3 GB of RAM for the reference matrix), and the
# offline embedder's raw throughput and memory (bench_embedder.py), in one run on this machine.
# Installs the engines compared against (src-python[bench]) into the project venv first.
# Results: bench/results/retrieval.json
source "$(dirname "$0")/../../scripts/lib.sh"
ensure_venv
"$PY" -m pip install -q -e "$ROOT/src-python[bench]"
out="$ROOT/bench/results/retrieval.json"
"$PY" "$ROOT/bench/retrieval/bench_search.py" "$out"
"$PY" "$ROOT/bench/retrieval/bench_million.py" "$out" --count "${MILLION_COUNT:-1000000}"
"$PY" "$ROOT/bench/retrieval/bench_embedder.py" "$out"
