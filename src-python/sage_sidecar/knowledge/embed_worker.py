"""The offline embedder's child process (the sidecar's side is `embed_process.py`).

It loads the model (embed_local.LocalMiniLM) at nice 10, then serves requests from stdin: a
reader thread queues them (or drops a cancelled one), and the main thread runs one model batch at
a time, always for the smallest request waiting, so a query goes ahead of a file's batches between
two runs. A result is a JSON header line and rows × DIM float32 bytes on stdout. Only the standard
library is imported before the model, so the child starts fast.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import threading
from typing import IO, TYPE_CHECKING, Any

from sage_sidecar.core.parent_death import die_with_parent

if TYPE_CHECKING:
    from sage_sidecar.knowledge.embed_local import LocalMiniLM

log = logging.getLogger(__name__)

DIM = 384  # embed_local.DIM, without importing numpy and pydantic into the sidecar's side
WORKER_FLAG = "--embed-worker"
# Requests of at most this many texts (queries) go ahead of bigger ones (a file's batches).
SMALL_REQUEST = 8
BACKGROUND_NICE = 10


class _Job:
    """One request in the child: tokenised on its first step, then one model batch per step."""

    def __init__(self, request_id: int, texts: list[str]) -> None:
        self.id = request_id
        self.texts = texts
        self.ids: list[list[int]] = []
        self.plan: list[list[int]] | None = None
        self.out: Any = None

    @property
    def order(self) -> tuple[bool, int]:
        return len(self.texts) > SMALL_REQUEST, self.id

    def step(self, model: LocalMiniLM) -> bool:
        """Run the next batch; True when every row is done."""
        import numpy

        from sage_sidecar.knowledge.embed_local import batches

        if self.plan is None:
            self.ids = model.encode(self.texts)
            self.plan = batches(self.ids)
            self.out = numpy.empty((len(self.texts), DIM), dtype=numpy.float32)
        batch = self.plan.pop(0)
        self.out[batch] = model.run([self.ids[i] for i in batch])
        return not self.plan


def _lower_priority() -> None:
    """The whole child below the sidecar (nice 10; below normal on Windows): ONNX's threads are
    created after this, so they inherit it."""
    if os.name == "nt":
        import ctypes

        below_normal = 0x4000
        kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined,unused-ignore]
        kernel32.SetPriorityClass(kernel32.GetCurrentProcess(), below_normal)
        return
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, 0, BACKGROUND_NICE)


def serve() -> int:
    """The child's main loop; exits at stdin EOF (the sidecar closed it or is gone)."""
    die_with_parent()
    from sage_sidecar.knowledge.embed_local import LocalMiniLM

    _lower_priority()
    model = LocalMiniLM()
    model.load()
    out = sys.stdout.buffer

    def write(header: dict[str, Any], payload: bytes = b"") -> None:
        out.write(json.dumps(header).encode() + b"\n" + payload)
        out.flush()

    write({"ready": True})
    jobs: dict[int, _Job] = {}
    wake = threading.Condition()
    ended = threading.Event()
    threading.Thread(target=_receive, args=(sys.stdin.buffer, jobs, wake, ended), daemon=True,
                     name="requests").start()  # fmt: skip
    while True:
        with wake:
            while not jobs and not ended.is_set():
                wake.wait()
            if ended.is_set():  # the sidecar closed our stdin, or is gone: nobody wants the rest
                return 0
            job = min(jobs.values(), key=lambda j: j.order)
        try:
            done = job.step(model)
        except MemoryError:
            write({"id": job.id, "error": "The offline embedder ran out of memory."})
            return 3
        except Exception as error:  # a bug of ours on an odd text: fail the request, keep serving
            log.exception("embedding failed")
            with wake:
                jobs.pop(job.id, None)
            write({"id": job.id, "error": f"The offline embedder failed ({type(error).__name__})."})
            continue
        if done:
            with wake:
                wanted = jobs.pop(job.id, None) is not None  # not cancelled meanwhile
            if wanted:
                write({"id": job.id, "rows": len(job.texts)}, job.out.astype("<f4").tobytes())


def _receive(
    stream: IO[bytes], jobs: dict[int, _Job], wake: threading.Condition, ended: threading.Event
) -> None:
    try:
        for line in stream:
            message = json.loads(line)
            with wake:
                if "cancel" in message:
                    jobs.pop(message["cancel"], None)
                else:
                    jobs[message["id"]] = _Job(message["id"], message["texts"])
                wake.notify()
    finally:
        with wake:
            ended.set()
            wake.notify()


if __name__ == "__main__":
    sys.exit(serve())
