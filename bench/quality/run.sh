#!/usr/bin/env bash
# bench/quality: recall@5 and MRR of vector, BM25 and hybrid search on Python's help topics, and
# BM25 by FTS5 tokenizer. Results: bench/results/quality.json
source "$(dirname "$0")/../../scripts/lib.sh"
ensure_venv
ensure_sidecar_built
"$PY" "$ROOT/bench/quality/eval_quality.py" "$ROOT" "$ROOT/bench/results/quality.json"
