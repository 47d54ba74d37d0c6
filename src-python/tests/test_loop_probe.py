"""The opt-in event-loop probe (core/loop_probe.py, SAGE_LOOP_PROBE) writes every gap over its
threshold with the threads' stacks taken during it and, on Linux, the loop thread's CPU and
run-queue time."""

import asyncio
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from sage_sidecar.core.loop_probe import run_probe

from sidecar_process import read_ready, sidecar_command, sidecar_env


def _hold_the_loop() -> None:
    time.sleep(0.15)  # a blocking call on the loop: asleep, not on a CPU


async def test_a_gap_is_written_with_the_stack_that_held_the_loop(tmp_path: Path):
    path = tmp_path / "probe.log"
    with path.open("a", buffering=1, encoding="utf-8") as out:
        probe = asyncio.create_task(run_probe(out, threshold_s=0.05))
        await asyncio.sleep(0.05)
        asyncio.get_running_loop().call_soon(_hold_the_loop)
        await asyncio.sleep(0.3)
        probe.cancel()
        await asyncio.gather(probe, return_exceptions=True)
    gaps = [json.loads(line[4:]) for line in path.read_text().splitlines() if line[:4] == "GAP "]
    # A loaded machine may add gaps of its own; this one names the call that held the loop.
    held = [g for g in gaps if "_hold_the_loop" in g["stacks"].get("MainThread", [""])[0]]
    assert len(held) == 1 and held[0]["ms"] >= 140, gaps
    if sys.platform == "linux":  # it slept: the loop thread was not computing
        assert held[0]["cpu_ms"] < 0.5 * held[0]["ms"], held


def test_the_sidecar_freezes_its_start_up_objects(tmp_path: Path):
    """A real sidecar freezes start-up's objects for the garbage collector (main.serve): its full
    collections then skip them (~120 ms of CPU each, holding Python's lock, before)."""
    probe = tmp_path / "probe.log"
    env = sidecar_env(tmp_path / "data", SAGE_LOOP_PROBE=str(probe))
    proc = subprocess.Popen(sidecar_command(), env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)  # fmt: skip
    try:
        read_ready(proc, timeout=60)
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    (start,) = [json.loads(line[6:]) for line in probe.read_text().splitlines()
                if line.startswith("START ")]  # fmt: skip
    assert start["gc_frozen"] > 50_000, start
