"""The offline embedder's child process (the sidecar's side is `embed_process.py`).

It loads one model (its argument, a `local_models` worker name: `minilm`, the default, is
embed_local.LocalMiniLM; `use-m3` is embed_use.LocalUSE) at nice 10, then serves requests from stdin: a
reader thread queues them (or drops a cancelled one), and the main thread runs one model batch at
a time, always for the smallest request waiting, so a query goes ahead of a file's batches between
two runs. A result is a JSON header line and rows × the model's dimension float32 bytes on stdout.
Only the standard library is imported before the model, so the child starts fast.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from collections.abc import Iterator, Sequence
from typing import IO, TYPE_CHECKING, Any, Protocol

from sage_sidecar.core.parent_death import die_with_parent, lower_priority

if TYPE_CHECKING:
    import numpy

log = logging.getLogger(__name__)

WORKER_FLAG = "--embed-worker"
# Requests of at most this many texts (queries) go ahead of bigger ones (a file's batches).
SMALL_REQUEST = 8


class Model(Protocol):
    def load(self) -> None: ...

    @property
    def dim(self) -> int: ...

    def steps(self, texts: Sequence[str]) -> Iterator[tuple[list[int], numpy.ndarray]]:
        """One model run per step: (indexes of `texts`, their L2-normalised rows)."""
        ...


def load_model(name: str) -> Model:
    if name == "use-m3":
        # Its matrix products are numpy's (OpenBLAS), whose pool is sized when numpy loads. They
        # are small: one thread measured 3-5x less CPU a chunk than two (embed_use.py).
        os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = "1"
        from sage_sidecar.knowledge.embed_use import LocalUSE

        return LocalUSE()
    from sage_sidecar.knowledge.embed_local import LocalMiniLM

    return LocalMiniLM()


class _Job:
    """One request in the child: tokenised on its first step, then one model run per step."""

    def __init__(self, request_id: int, texts: list[str]) -> None:
        self.id = request_id
        self.texts = texts
        self.runs: Iterator[tuple[list[int], numpy.ndarray]] | None = None
        self.out: Any = None
        self.filled = 0

    @property
    def order(self) -> tuple[bool, int]:
        return len(self.texts) > SMALL_REQUEST, self.id

    def step(self, model: Model) -> bool:
        """Run the next batch; True when every row is done."""
        import numpy

        if self.runs is None:
            self.runs = model.steps(self.texts)
            self.out = numpy.empty((len(self.texts), model.dim), dtype=numpy.float32)
        batch, rows = next(self.runs)
        self.out[batch] = rows
        self.filled += len(batch)
        return self.filled >= len(self.texts)


def serve(model_name: str = "minilm") -> int:
    """The child's main loop; exits at stdin EOF (the sidecar closed it or is gone)."""
    die_with_parent()
    lower_priority()
    model = load_model(model_name)
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
    sys.exit(serve(*sys.argv[1:2]))
