"""bench/ingest/loop_gaps.py: what holds the sidecar's event loop while it ingests?

A venv sidecar starts with SAGE_LOOP_PROBE (src-python/sage_sidecar/core/loop_probe.py): every
loop gap over 50 ms is written with the stacks of all its threads and the loop thread's CPU and
run-queue time during the gap. A reduced copy of bench/ingest's corpus (FILES help-topic files)
is ingested while a client polls /api/health (bench_ingest.Probe); then every gap is attributed:

- "cpu": the loop thread itself ran for most of the gap (its stack says what);
- "runqueue": it was ready but waited for a CPU (the machine is busy);
- "asleep": it slept, waiting for Python's lock (another thread's stack says which) or on a
  blocking call.

Usage: loop_gaps.py ROOT [OUT_JSON]   (BENCH_FILES: how many files, default 60)
       loop_gaps.py --read PROBE_FILE     (a probe file another run wrote)
"""

import json
import os
import re
import secrets
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_ingest import Sidecar, ingest, write_documents  # noqa: E402

FILES = int(os.environ.get("BENCH_FILES", "60"))
FRAME = re.compile(r'File "([^"]+)", line (\d+) in (\S+)')
# Paths shortened to what says the most: our package, a library, the standard library.
SHORT = re.compile(r".*/(sage_sidecar/.*|site-packages/.*|python3\.\d+/.*)")


def parse(log: str) -> list[dict]:
    """GAP lines with the stack dump that came before each (if faulthandler fired)."""
    gaps, dump = [], ""
    for block in re.split(r"(?m)^(?=Timeout \(|GAP )", log):
        if block.startswith("Timeout ("):
            dump = block
        elif block.startswith("GAP "):
            line, _, rest = block.partition("\n")
            gap = json.loads(line[4:])
            gap["stacks"] = _stacks(dump, gap.pop("threads"))
            gaps.append(gap)
            dump = ""
    return gaps


def _stacks(dump: str, names: dict[str, str]) -> dict[str, list[str]]:
    """thread name → its innermost frames."""
    stacks: dict[str, list[str]] = {}
    for block in re.split(r"(?m)^(?=(?:Current thread|Thread) 0x)", dump):
        head = re.match(r"(?:Current thread|Thread) (0x[0-9a-f]+)", block)
        if not head:
            continue
        name = names.get(head.group(1), head.group(1))
        frames = [f"{_short(m.group(1))}:{m.group(2)} {m.group(3)}" for m in FRAME.finditer(block)]
        stacks[name] = frames[:5]
    return stacks


def _short(path: str) -> str:
    return SHORT.sub(r"\1", path)


def cause(gap: dict) -> str:
    if "cpu_ms" not in gap:
        return "unknown"
    asleep = gap["ms"] - gap["cpu_ms"] - gap["runqueue_ms"]
    parts = {"cpu": gap["cpu_ms"], "runqueue": gap["runqueue_ms"], "asleep": asleep}
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
        gaps = parse(probe_log.read_text(encoding="utf-8", errors="replace"))
    result = {
        "files": FILES, "chunks": run["chunks"], "seconds": run["seconds"], "loop": run["loop"],
        "load_avg": [round(load_start, 2), round(os.getloadavg()[0], 2)],
        **summary([g for g in gaps if g["at"] >= started]),
    }  # fmt: skip
    text = json.dumps(result, indent=1)
    print(text)
    if len(sys.argv) > 2:
        Path(sys.argv[2]).write_text(text + "\n")


if __name__ == "__main__":
    main()
