"""The offline embedder runs in a process of its own, never in the sidecar's.

In a thread of the sidecar, tokenising and the numpy steps around each ONNX run hold Python's
lock; on a busy 2-core machine the kernel parks that nice-10 thread while it holds the lock, and
the event loop waits with it (bench/ingest: /api/health gaps of 0.4-0.6 s while files embed). In
its own process the embedder shares no lock with the event loop, and its lower priority only
slows the embedder itself.

- **Started lazily**, on the first `embed()`, and kept: it loads the model once (~0.3 s plus the
  interpreter) and a search needs it warm. A sidecar without knowledge bases never starts it.
- **One child, shortest request first.** The child runs one model batch (at most 256 tokens) at a
  time and between two batches takes the smallest request waiting, so a query (a few texts) never
  waits behind a file's 64-chunk batch for more than one model run.
- **Restarted if it dies.** The requests it held fail with `EmbedderDied`; `embed()` sends them
  once more to a fresh child, then gives up with an EmbeddingError naming the exit status (the
  ingest fails that file with the reason and goes on).
- **Owned like a parse worker**: a child of the sidecar with PR_SET_PDEATHSIG=SIGKILL (Linux),
  started from a thread that lives as long as the process (the signal fires when the *thread*
  that forked it ends), ending at stdin EOF, swept with every other descendant at shutdown; no
  SAGE_* variable reaches it but the embedder's own two settings (no key).
- **Loop-agnostic.** The sidecar side is two threads, not asyncio pipes: one writes requests
  (and spawns the child), one per child reads results and hands each to the event loop that asked
  (`call_soon_threadsafe`). So one child serves the process whichever loop asks (tests run many).
- **Wire.** Requests are JSON lines (`{"id", "texts"}`, `{"cancel": id}`); a result is a JSON
  header line (`{"id", "rows"}` or `{"id", "error"}`) and then rows × dim float32 bytes.
- **One per model.** Each offline model (`local_models.py`: the MiniLM, the multilingual USE) has
  its own EmbedderProcess and child, started only when a base that uses it embeds.

The child (`embed_worker.py`) is `python -m sage_sidecar.knowledge.embed_worker <model>` from a
checkout and `sage-sidecar --embed-worker <model>` in the frozen build (dispatched in
`src-python/main.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sage_sidecar.knowledge.embed_provider import EmbeddingError
from sage_sidecar.knowledge.embed_worker import WORKER_FLAG
from sage_sidecar.knowledge.local_models import MINILM, LocalModel

if TYPE_CHECKING:
    import numpy

log = logging.getLogger(__name__)

# The embedder's own settings, the only SAGE_* variables the child gets (embed_local.py).
PASSED_SETTINGS = ("SAGE_EMBEDDER_THREADS", "SAGE_EMBEDDER_MODEL_PATH")
STOPPED = "The offline embedder stopped unexpectedly twice (exit status {code})."


def worker_command(model: LocalModel = MINILM) -> list[str]:
    if getattr(sys, "frozen", False):
        return [sys.executable, WORKER_FLAG, model.worker_name]
    return [sys.executable, "-m", "sage_sidecar.knowledge.embed_worker", model.worker_name]


def _worker_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("SAGE_") or k in PASSED_SETTINGS}  # fmt: skip
    if not getattr(sys, "frozen", False):  # a checkout: the child imports the same package
        package_root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    return env


class EmbedderDied(Exception):
    def __init__(self, returncode: int) -> None:
        super().__init__(f"the embedder process exited with {returncode}")
        self.returncode = returncode


@dataclass
class _Child:
    process: subprocess.Popen[bytes]


@dataclass
class _Pending:
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[numpy.ndarray]
    child: _Child | None = None  # the child it was sent to; None while queued
    texts: list[str] = field(default_factory=list)


class EmbedderProcess:
    """An offline model (all-MiniLM-L6-v2 by default) behind a child process; the Embedder
    protocol."""

    def __init__(self, model: LocalModel = MINILM) -> None:
        self.model = model
        self.id = model.id
        self._lock = threading.Lock()  # guards everything below
        self._outbox: queue.SimpleQueue[dict[str, Any]] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._child: _Child | None = None
        self._pending: dict[int, _Pending] = {}
        self._next_id = 0
        self.started = 0  # children started so far (tests read it)

    @property
    def dim(self) -> int:
        return self.model.dim

    @property
    def loaded(self) -> bool:
        """A child is running (it loads the model as it starts)."""
        return self.pid is not None

    @property
    def pid(self) -> int | None:
        child = self._child
        if child is None or child.process.poll() is not None:
            return None
        return child.process.pid

    async def embed(self, texts: Sequence[str]) -> numpy.ndarray:
        if not texts:
            import numpy

            return numpy.zeros((0, self.dim), dtype=numpy.float32)
        try:
            return await self._request(list(texts))
        except EmbedderDied as died:
            log.warning("%s; sending its work to a new one", died)
        try:
            return await self._request(list(texts))
        except EmbedderDied as died:
            raise EmbeddingError(STOPPED.format(code=died.returncode)) from None

    def close(self) -> None:
        """Kill the child (what it held fails and is retried by a new one if still wanted)."""
        with self._lock:
            child, self._child = self._child, None
        if child is not None:
            with contextlib.suppress(ProcessLookupError):
                child.process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.process.wait(5)

    # --- the event loop's side ----------------------------------------------------------------

    async def _request(self, texts: list[str]) -> numpy.ndarray:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[numpy.ndarray] = loop.create_future()
        with self._lock:
            self._next_id += 1
            request_id = self._next_id
            self._pending[request_id] = _Pending(loop, future, texts=texts)
        self._send({"id": request_id})
        try:
            return await future
        finally:
            with self._lock:
                gone = self._pending.pop(request_id, None)
            if gone is not None and gone.child is not None:  # cancelled mid-way: free the child
                self._send({"cancel": request_id})

    def _send(self, message: dict[str, Any]) -> None:
        with self._lock:
            if self._writer is None:
                self._writer = threading.Thread(target=self._write_forever, daemon=True,
                                                name="embedder-writer")  # fmt: skip
                self._writer.start()
        self._outbox.put(message)

    # --- the writer thread: spawns children, sends requests ------------------------------------

    def _write_forever(self) -> None:
        """Lives as long as the process: the child's parent-death signal is tied to this thread."""
        while True:
            message = self._outbox.get()
            with self._lock:
                child = self._child
                if "cancel" in message:
                    if child is None:
                        continue
                    line = message
                else:
                    pending = self._pending.get(message["id"])
                    if pending is None:  # cancelled before it was sent
                        continue
                    if child is None:
                        child = self._child = self._spawn()
                    pending.child = child
                    line = {"id": message["id"], "texts": pending.texts}
            data = json.dumps(line, ensure_ascii=False).encode() + b"\n"
            try:
                assert child.process.stdin is not None
                child.process.stdin.write(data)
                child.process.stdin.flush()
            except (BrokenPipeError, OSError, ValueError):
                pass  # it died: its reader fails what it held

    def _spawn(self) -> _Child:
        process = subprocess.Popen(
            worker_command(self.model), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=None,
            env=_worker_env(),
        )  # fmt: skip
        child = _Child(process)
        self.started += 1
        threading.Thread(target=self._read, args=(child,), daemon=True,
                         name=f"embedder-reader-{process.pid}").start()  # fmt: skip
        log.info("offline embedder process %s started", process.pid)
        return child

    # --- a reader thread per child: results back to the loops that asked --------------------

    def _read(self, child: _Child) -> None:
        import numpy

        out = child.process.stdout
        assert out is not None
        try:
            while header := out.readline():
                message = json.loads(header)
                if "ready" in message:
                    continue
                result: numpy.ndarray | BaseException
                if "error" in message:
                    result = EmbeddingError(message["error"])
                else:
                    size = message["rows"] * self.dim * 4
                    data = out.read(size)
                    if len(data) < size:
                        break
                    result = numpy.frombuffer(bytearray(data), dtype="<f4").reshape(-1, self.dim)
                with self._lock:
                    pending = self._pending.pop(message["id"], None)
                if pending is not None:
                    _settle(pending, result)
        except (OSError, ValueError):
            log.exception("reading from the embedder process failed")
        finally:
            child.process.kill()
            code = child.process.wait()
            with self._lock:
                if self._child is child:
                    self._child = None
                held = [(i, p) for i, p in self._pending.items() if p.child is child]
                for request_id, _ in held:
                    del self._pending[request_id]
            if held:
                log.warning("embedder process %s exited with %s", child.process.pid, code)
            for _, pending in held:
                _settle(pending, EmbedderDied(code))


def _settle(pending: _Pending, result: numpy.ndarray | BaseException) -> None:
    def settle() -> None:
        if pending.future.done():
            return
        if isinstance(result, BaseException):
            pending.future.set_exception(result)
        else:
            pending.future.set_result(result)

    with contextlib.suppress(RuntimeError):  # that loop is closed: nobody is waiting any more
        pending.loop.call_soon_threadsafe(settle)
