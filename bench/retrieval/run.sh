#!/usr/bin/env bash
# bench/retrieval: the vector engines over 100k chunks (bench_search.py), the sidecar's index at
# a million chunks against exact numpy (bench_million.py; MILLION_COUNT=100000 for a quick run —
# the 1M build takes ~20–40 min on 2 cores and ~3 GB of RAM for the reference matrix), the
# offline embedder's raw throughput and memory (bench_embedder.py), and knowledge search over
# HTTP against a venv sidecar with a 10k-chunk base, the issue's latency target (bench_http.py;
# indexing the base takes 5–10 min, BENCH_HTTP_DATA=DIR keeps it for the next run), in one run
# on this machine. RETRIEVAL_BENCHES picks some: "search million embedder http" (the default).
# Installs the engines compared against (src-python[bench]) into the project venv first.
# Results: bench/results/retrieval.json, bench/results/retrieval-http.json
source "$(dirname "$0")/../../scripts/lib.sh"
ensure_venv
"$PY" -m pip install -q -e "$ROOT/src-python[bench]"
out="$ROOT/bench/results/retrieval.json"
for bench in ${RETRIEVAL_BENCHES:-search million embedder http}; do
  case "$bench" in
    search) "$PY" "$ROOT/bench/retrieval/bench_search.py" "$out" ;;
    million) "$PY" "$ROOT/bench/retrieval/bench_million.py" "$out" --count "${MILLION_COUNT:-1000000}" ;;
    embedder) "$PY" "$ROOT/bench/retrieval/bench_embedder.py" "$out" ;;
    http)
      ensure_apt manpages manpages-dev
      "$PY" "$ROOT/bench/retrieval/bench_http.py" "$ROOT" "$ROOT/bench/results/retrieval-http.json" \
        ${BENCH_HTTP_DATA:+--data "$BENCH_HTTP_DATA"} ;;
    *) die "unknown bench '$bench' (search, million, embedder, http)" ;;
  esac
done
