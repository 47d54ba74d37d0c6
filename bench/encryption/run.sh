#!/usr/bin/env bash
# bench/encryption: chat and search latency and ingest throughput on a plain and an encrypted
# (SQLCipher) database, in one run. Results: bench/results/encryption.json
source "$(dirname "$0")/../../scripts/lib.sh"
ensure_venv
"$PY" "$ROOT/bench/encryption/run.py" "$ROOT" "$ROOT/bench/results/encryption.json"
