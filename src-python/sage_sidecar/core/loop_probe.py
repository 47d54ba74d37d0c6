"""An opt-in probe that attributes every long event-loop gap to its cause (benchmarks and
diagnosis; off unless SAGE_LOOP_PROBE names a file to write).

A ticker task wakes every TICK_S. Before each sleep it arms `faulthandler.dump_traceback_later`,
so if the loop does not come back within THRESHOLD_S, faulthandler's own C thread writes every
Python thread's stack to the file, without needing Python's lock (a thread holding it would keep a
Python-level sampler waiting too). When the loop does come back late, the ticker appends one line:

    GAP {"ms": 123.4, "cpu_ms": 2.1, "runqueue_ms": 110.0, "at": <unix time>}

`cpu_ms` and `runqueue_ms` come from the loop thread's /proc/thread-self/schedstat (Linux): time
it ran on a CPU, and time it was runnable but waiting for one, during the gap. The rest of the
gap it slept. So a gap is mostly
- cpu: the loop itself ran something slow (the dumped loop-thread stack shows what);
- runqueue: the machine's CPUs were busy with other work (load), the loop was ready to run;
- asleep: waiting for Python's lock held by another thread (the other stacks show which), or a
  blocking call on the loop (its stack shows it).
"""

from __future__ import annotations

import asyncio
import contextlib
import faulthandler
import json
import threading
import time
from pathlib import Path
from typing import IO

TICK_S = 0.005
THRESHOLD_S = 0.05


def _schedstat() -> tuple[float, float] | None:
    """(ns on CPU, ns waiting on a run queue) of the calling thread; None off Linux."""
    try:
        on_cpu, waiting, _slices = Path("/proc/thread-self/schedstat").read_text().split()
    except (OSError, ValueError):
        return None
    return float(on_cpu), float(waiting)


async def run_probe(out: IO[str], threshold_s: float = THRESHOLD_S) -> None:
    """Tick until cancelled, writing stacks and GAP lines to `out` (line-buffered text)."""
    try:
        while True:
            before = _schedstat()
            started = time.perf_counter()
            faulthandler.dump_traceback_later(threshold_s, file=out)
            await asyncio.sleep(TICK_S)
            faulthandler.cancel_dump_traceback_later()
            late = time.perf_counter() - started - TICK_S
            if late < threshold_s:
                continue
            after = _schedstat()
            gap: dict[str, object] = {"ms": round(late * 1000, 1), "at": round(time.time(), 3)}
            if before is not None and after is not None:
                gap["cpu_ms"] = round((after[0] - before[0]) / 1e6, 1)
                gap["runqueue_ms"] = round((after[1] - before[1]) / 1e6, 1)
            # faulthandler names threads by ident only: say which is which.
            names = {f"{t.ident:#018x}": t.name for t in threading.enumerate() if t.ident}
            out.write(f"GAP {json.dumps({**gap, 'threads': names})}\n")
            out.flush()
    finally:
        faulthandler.cancel_dump_traceback_later()


def start_from_env(path: str | None) -> asyncio.Task[None] | None:
    """Start the probe on the running loop if `path` (SAGE_LOOP_PROBE) is set."""
    if not path:
        return None
    out = open(path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - open for the task's life

    async def probe() -> None:
        with contextlib.closing(out):
            await run_probe(out)

    return asyncio.get_running_loop().create_task(probe(), name="loop-probe")
