"""bench/ingest/loop_gaps.py: what holds the sidecar's event loop while it ingests?

A venv sidecar starts with SAGE_LOOP_PROBE (src-python/sage_sidecar/core/loop_probe.py): every
loop gap over 50 ms is written with the stacks of all its threads and the loop thread's CPU and
run-queue time during the gap. A reduced copy of bench/ingest's corpus (FILES help-topic files)
is ingested while a client polls /api/health (bench_ingest.Probe); then every gap is attributed:

- "gc": Python's garbage collector ran for half the gap or more (in any thread: it holds the lock);
- "cpu": the loop thread itself ran for most of the gap (its stack says what);
- "runqueue": it was ready but waited for a CPU (the machine is busy);
- "asleep": it slept, waiting for Python's lock (another thread's stack says which) or on a
  blocking call.

Usage: loop_gaps.py ROOT [OUT_JSON]   (BENCH_FILES: how many files, default 60)
       loop_gaps.py --read PROBE_FILE     (a probe file another run wrote)
"""

import json
import os
import secrets
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_ingest import Sidecar, ingest, write_documents  # noqa: E402

FILES = int(os.environ.get("BENCH_FILES", "60"))


def parse(log: str) -> list[dict]:
    return [json.loads(line[4:]) for line in log.splitlines() if line.startswith("GAP ")]


def cause(gap: dict) -> str:
    if "cpu_ms" not in gap:
        return "unknown"
    asleep = gap["ms"] - gap["cpu_ms"] - gap["runqueue_ms"]
    parts = {"cpu": gap["cpu_ms"], "runqueue": gap["runqueue_ms"], "asleep": asleep}
    if gap.get("gc_ms", 0) >= 0.5 * gap["ms"]:
        return "gc"
    return max(parts, key=lambda k: parts[k])


def summary(gaps: list[dict]) -> dict:
    for gap in gaps:
        gap["cause"] = cause(gap)
    return {"gaps_over_50ms": len(gaps), "by_cause": Counter(g["cause"] for g in gaps),
            "worst": sorted(gaps, key=lambda g: -g["ms"])[:12]}  # fmt: skip


def main() -> None:
    if sys.argv[1] == "--read":  # a probe file another run wrote (bench/hostile's BENCH_LOOP_PROBE)
        print(json.dumps(summary(parse(Path(sys.argv[2]).read_text(errors="replace"))), indent=1))
        return
    root = Path(sys.argv[1])
    python = str(root / ".venv/bin/python")
    base = {k: v for k, v in os.environ.items() if not k.startswith("SAGE_")}
    with tempfile.TemporaryDirectory() as tmp:
        probe_log = Path(tmp) / "probe.log"
        env = {**base, "SAGE_API_KEY": secrets.token_hex(32), "SAGE_DATA_DIR": str(Path(tmp) / "d"),
               "SAGE_LOOP_PROBE": str(probe_log), "PYTHONPATH": str(root / "src-python")}  # fmt: skip
        paths = write_documents(Path(tmp) / "docs")[:FILES]
        load_start = os.getloadavg()[0]
        sidecar = Sidecar([python, "-m", "sage_sidecar"], env)
        try:
            time.sleep(1)
            started = time.time()
            run = ingest(sidecar, "gaps", paths)
        finally:
            sidecar.stop()
            if len(sys.argv) > 2:  # the raw probe output and the sidecar's log, beside the JSON
                shutil.copy(probe_log, sys.argv[2] + ".probe.log")
                for log in (Path(tmp) / "d" / "logs").glob("*.log"):
                    shutil.copy(log, f"{sys.argv[2]}.{log.name}")
        log = probe_log.read_text(encoding="utf-8", errors="replace")
        gaps = parse(log)
        end = [json.loads(line.split(" ", 1)[1]) for line in log.splitlines()
               if line.startswith(("START ", "END "))]  # fmt: skip
    result = {
        "files": FILES, "chunks": run["chunks"], "seconds": run["seconds"], "loop": run["loop"],
        "load_avg": [round(load_start, 2), round(os.getloadavg()[0], 2)],
        "gc": end, **summary([g for g in gaps if g["at"] >= started]),
    }  # fmt: skip
    text = json.dumps(result, indent=1)
    print(text)
    if len(sys.argv) > 2:
        Path(sys.argv[2]).write_text(text + "\n")


if __name__ == "__main__":
    main()
