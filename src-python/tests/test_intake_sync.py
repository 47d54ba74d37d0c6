"""An upload's fsync (which waits for the disk) runs in a thread, never on the event loop."""

import asyncio
import os
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sage_sidecar.core.errors import InvalidError
from sage_sidecar.knowledge import intake


def multipart(files: dict[str, bytes], boundary: str = "b0undary") -> bytes:
    body = b""
    for name, data in files.items():
        body += (f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
                 f'filename="{name}"\r\n\r\n').encode() + data + b"\r\n"  # fmt: skip
    return body + f"--{boundary}--\r\n".encode()


def test_fsync_of_each_uploaded_file_runs_off_the_event_loop(tmp_path: Path, monkeypatch):
    slow_disk = 0.3
    synced_on: list[threading.Thread] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced_on.append(threading.current_thread())
        time.sleep(slow_disk)  # a disk that takes its time
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    body = multipart({"a.txt": b"alpha\n" * 1000, "b.md": b"# beta\n"})

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 4096):
            yield body[start : start + 4096]

    async def run() -> tuple[list[intake.StagedFile], float]:
        worst = 0.0
        done = asyncio.Event()

        async def ticker() -> None:
            nonlocal worst
            last = time.perf_counter()
            while not done.is_set():
                await asyncio.sleep(0.01)
                now = time.perf_counter()
                worst, last = max(worst, now - last), now

        ticking = asyncio.create_task(ticker())
        try:
            staged = await intake.stage_multipart(
                "multipart/form-data; boundary=b0undary", chunks(), tmp_path / "in", 2**20
            )
        finally:
            done.set()
            await ticking
        return staged, worst

    staged, worst = asyncio.run(asyncio.wait_for(run(), 30))
    assert [s.name for s in staged] == ["a.txt", "b.md"]
    assert all(s.sha256 and s.path.read_bytes() for s in staged)
    assert len(synced_on) == 2 and threading.main_thread() not in synced_on
    assert worst < slow_disk, f"the loop stalled {worst:.2f} s"


@pytest.mark.parametrize("cut", [10, -20])
def test_a_truncated_upload_leaves_no_staged_file(tmp_path: Path, cut: int):
    body = multipart({"a.txt": b"alpha\n" * 1000})[:cut]

    async def chunks() -> AsyncIterator[bytes]:
        yield body

    async def run() -> None:
        with pytest.raises(InvalidError):
            await intake.stage_multipart(
                "multipart/form-data; boundary=b0undary", chunks(), tmp_path / "in", 2**20
            )

    asyncio.run(asyncio.wait_for(run(), 30))
    assert list((tmp_path / "in").glob("*")) == []
