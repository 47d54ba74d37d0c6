"""The opt-in event-loop probe (core/loop_probe.py, SAGE_LOOP_PROBE) writes every gap over its
threshold with the stacks at the gap and, on Linux, the loop thread's CPU and run-queue time."""

import asyncio
import json
import sys
import time
from pathlib import Path

from sage_sidecar.core.loop_probe import run_probe


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
    text = path.read_text()
    assert "Timeout (0:00:00.050000)!" in text  # faulthandler's dump of every thread
    assert "_hold_the_loop" in text.split("GAP ")[0]
    gaps = [json.loads(line[4:]) for line in text.splitlines() if line.startswith("GAP ")]
    assert len(gaps) == 1 and 140 <= gaps[0]["ms"] < 1000, gaps
    assert "MainThread" in gaps[0]["threads"].values()
    if sys.platform == "linux":  # slept, so neither on a CPU nor waiting for one
        assert gaps[0]["cpu_ms"] + gaps[0]["runqueue_ms"] < 0.5 * gaps[0]["ms"], gaps
