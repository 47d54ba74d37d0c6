#!/usr/bin/env bash
# bench/quality: recall@5 and MRR of vector, BM25 and hybrid search on three evaluation sets
# (Python's help topics, English man pages, Chinese man pages), the fusions and lexical indexes
# the choices were made between, and search latency over HTTP. Results: bench/results/quality.json
source "$(dirname "$0")/../../scripts/lib.sh"
ensure_apt manpages manpages-dev manpages-zh
ensure_venv
ensure_sidecar_built
"$PY" "$ROOT/bench/quality/eval_quality.py" "$ROOT" "$ROOT/bench/results/quality.json"
