#!/usr/bin/env bash
# bench/retrieval: the vector engines over 100k chunks (bench_search.py) and the offline
# embedder's raw throughput and memory (bench_embedder.py), in one run on this machine.
# Installs the engines compared against (src-python[bench]) into the project venv first.
# Results: bench/results/retrieval.json
source "$(dirname "$0")/../../scripts/lib.sh"
ensure_venv
"$PY" -m pip install -q -e "$ROOT/src-python[bench]"
out="$ROOT/bench/results/retrieval.json"
"$PY" "$ROOT/bench/retrieval/bench_search.py" "$out"
"$PY" "$ROOT/bench/retrieval/bench_embedder.py" "$out"
