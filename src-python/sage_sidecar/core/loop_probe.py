"""An opt-in probe that attributes every long event-loop gap to its cause (benchmarks and
diagnosis; off unless SAGE_LOOP_PROBE names a file to write).

A ticker task wakes every TICK_S and notes when it last ran. A sampler thread looks every
SAMPLE_S: once the loop has not ticked for THRESHOLD_S, it takes every thread's stack
(`sys._current_frames`), once per gap. When the loop comes back late, the ticker writes one line:

    GAP {"ms": 123.4, "cpu_ms": 2.1, "runqueue_ms": 110.0, "gc_ms": 0.0, "at": <unix time>,
         "stacks": {...}}

and a START and an END line with the garbage collector's totals (time in collections, collections
per generation, objects frozen at start-up by `main.serve`; uvicorn ends the process by its SIGTERM
before the END line).

`cpu_ms` and `runqueue_ms` come from the loop thread's /proc/thread-self/schedstat (Linux): time
it ran on a CPU, and time it was runnable but waiting for one, during the gap. The rest of the gap
it slept. `gc_ms` is the time Python's cyclic garbage collector ran during the gap, in any thread
(it holds Python's lock throughout). So a gap is mostly
- gc: a collection (in the loop thread it counts as cpu, in another as asleep);
- cpu: the loop itself ran something slow (the loop thread's stack shows what);
- runqueue: the machine's CPUs were busy with other work (load), the loop was ready to run;
- asleep: waiting for Python's lock held by another thread (the other stacks show which), or a
  blocking call on the loop (its stack shows it).

The sampler needs Python's lock to take the stacks, so a thread holding it in C code for the
whole gap is seen just after; the schedstat split does not depend on it. (faulthandler's
`dump_traceback_later`, re-armed per tick, was tried first: arming and cancelling it starts and
joins a thread every tick, and on a loaded machine the loop then waited for that thread.)
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import IO

TICK_S = 0.005
SAMPLE_S = 0.01
THRESHOLD_S = 0.05
FRAMES = 12  # innermost frames kept per thread


def _schedstat() -> tuple[float, float] | None:
    """(ns on CPU, ns waiting on a run queue) of the calling thread; None off Linux."""
    try:
        on_cpu, waiting, _slices = Path("/proc/thread-self/schedstat").read_text().split()
    except (OSError, ValueError):
        return None
    return float(on_cpu), float(waiting)


def _stacks() -> dict[str, list[str]]:
    names = {t.ident: t.name for t in threading.enumerate()}
    found = {}
    for ident, frame in sys._current_frames().items():
        if ident == threading.get_ident():
            continue  # the sampler itself
        frames = traceback.extract_stack(frame)[-FRAMES:]
        found[names.get(ident, str(ident))] = [
            f"{_short(f.filename)}:{f.lineno} {f.name}" for f in reversed(frames)
        ]
    return found


def _short(path: str) -> str:
    for marker in ("sage_sidecar/", "site-packages/", "python3."):
        if marker in path:
            return path[path.index(marker) :]
    return path


async def run_probe(out: IO[str], threshold_s: float = THRESHOLD_S) -> None:
    """Tick until cancelled, writing a GAP line to `out` for every gap over `threshold_s`."""
    last_tick = time.perf_counter()
    captured: dict[float, dict[str, list[str]]] = {}  # tick → the stacks taken in its gap
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(SAMPLE_S):
            tick = last_tick
            if time.perf_counter() - tick > threshold_s and tick not in captured:
                captured[tick] = _stacks()

    collecting = [0.0, 0.0]  # when the current collection started, all collections' seconds

    def on_gc(phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            collecting[0] = time.perf_counter()
        else:
            collecting[1] += time.perf_counter() - collecting[0]

    out.write(f"START {json.dumps(_gc_totals(0.0))}\n")
    sampler = threading.Thread(target=sample, name="loop-probe", daemon=True)
    sampler.start()
    gc.callbacks.append(on_gc)
    try:
        while True:
            before, gc_before = _schedstat(), collecting[1]
            started = last_tick = time.perf_counter()
            await asyncio.sleep(TICK_S)
            late = time.perf_counter() - started - TICK_S
            stacks = captured.pop(started, {})
            if late < threshold_s:
                continue
            after = _schedstat()
            gap: dict[str, object] = {"ms": round(late * 1000, 1), "at": round(time.time(), 3),
                                      "gc_ms": round((collecting[1] - gc_before) * 1000, 1)}  # fmt: skip
            if before is not None and after is not None:
                gap["cpu_ms"] = round((after[0] - before[0]) / 1e6, 1)
                gap["runqueue_ms"] = round((after[1] - before[1]) / 1e6, 1)
            gap["stacks"] = stacks
            out.write(f"GAP {json.dumps(gap)}\n")
            out.flush()
    finally:
        stop.set()
        gc.callbacks.remove(on_gc)
        out.write(f"END {json.dumps(_gc_totals(collecting[1]))}\n")  # not after a SIGTERM


def _gc_totals(seconds: float) -> dict[str, object]:
    return {"gc_ms": round(seconds * 1000, 1), "gc_frozen": gc.get_freeze_count(),
            "gc_collections": [g["collections"] for g in gc.get_stats()]}  # fmt: skip


def start_from_env(path: str | None) -> asyncio.Task[None] | None:
    """Start the probe on the running loop if `path` (SAGE_LOOP_PROBE) is set."""
    if not path:
        return None
    out = open(path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - open for the task's life

    async def probe() -> None:
        try:
            await run_probe(out)
        finally:
            out.close()

    return asyncio.get_running_loop().create_task(probe(), name="loop-probe")
