"""Parse worker processes: untrusted documents are parsed and chunked outside the sidecar.

A file someone drops in can be built to be slow (300k empty paragraphs, deep nesting) or huge
once unpacked (a zip bomb). In a thread it would hold Python's lock and the event loop with it,
could not be stopped, and could take the whole sidecar's memory. So every parse runs in a worker
process with:

- a wall-clock budget (`ParseLimits.timeout_s`): past it the worker is killed and the file fails
  with "took longer than N s";
- a memory limit (RLIMIT_AS on Linux, set by the worker on itself before it reads anything): an
  allocation past it fails the parse with "needs more than N MB", and the worker is replaced;
- cancellation: when the file is deleted or re-indexed mid-parse, the awaiting task is cancelled
  and the worker is killed with it (SIGKILL, nothing to clean up);
- a scrubbed environment (no SAGE_* variables: the API key never reaches it) and, on Linux,
  PR_SET_PDEATHSIG, so a worker never outlives the sidecar;
- nice 10 (below normal on Windows), like the embedder: the event loop keeps its core.

Attached images are decoded, checked and downscaled here too (op "image", `image_decode.py`):
the sidecar itself never imports Pillow.

Workers are our own child processes speaking JSON lines over stdin/stdout (not multiprocessing:
its pool cannot kill one task, and its pipes block; asyncio's subprocess pipes do not). A worker
that finished cleanly is kept for the next parse (start-up costs ~0.2-0.4 s of imports, a parse of
a small file ~ms) and ends after `idle_s` unused. Results come back in frames of at most ~256 KB,
so decoding one never holds the event loop for more than a millisecond or two.

The worker is `python -m sage_sidecar.knowledge.parse_worker` from a checkout and
`sage-sidecar --parse-worker` in the frozen build (dispatched in `src-python/main.py` before the
server's imports). See docs/architecture.md "Parse workers".
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sage_sidecar.core.parent_death import die_with_parent, lower_priority
from sage_sidecar.knowledge.parsers import ParseError

if TYPE_CHECKING:
    from sage_sidecar.knowledge.chunking import Chunk

log = logging.getLogger(__name__)

FRAME_CHARS = 256 * 1024  # chunk text per result frame
MAX_FRAME_BYTES = 16 * 2**20  # a longer line from a worker is a broken worker
WORKER_FLAG = "--parse-worker"
START_TIMEOUT_S = 60.0  # a worker's imports, not counted in a file's budget


@dataclass(frozen=True)
class ParseLimits:
    timeout_s: float = 120.0
    memory_mb: int = 1024
    workers: int = 2  # at most this many parses at once (the target machine has 2 cores)
    idle_s: float = 30.0  # an unused worker ends after this long


def worker_command(memory_mb: int) -> list[str]:
    if getattr(sys, "frozen", False):
        return [sys.executable, WORKER_FLAG, str(memory_mb)]
    return [sys.executable, "-m", "sage_sidecar.knowledge.parse_worker", str(memory_mb)]


def _worker_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAGE_")}
    if not getattr(sys, "frozen", False):  # a checkout: the worker imports the same package
        package_root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    return env


class _Worker:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.idle_timer: asyncio.TimerHandle | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    async def send(self, request: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(request).encode() + b"\n")
        await self.process.stdin.drain()

    async def receive(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = await self.process.stdout.readline()
        if not line:
            code = await self.process.wait()
            raise _WorkerDied(code)
        message: dict[str, Any] = json.loads(line)
        return message

    def kill(self) -> None:
        if self.idle_timer is not None:
            self.idle_timer.cancel()
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()


class _WorkerDied(Exception):
    def __init__(self, returncode: int) -> None:
        super().__init__(f"the parse worker exited with {returncode}")
        self.returncode = returncode


class ParserPool:
    """Runs parses in worker processes under `limits`; owned by one event loop."""

    def __init__(self, limits: ParseLimits | None = None) -> None:
        self.limits = limits or ParseLimits()
        self._idle: list[_Worker] = []
        self._live: set[_Worker] = set()
        self._slots: asyncio.Semaphore | None = None
        self._reaping: set[asyncio.Task[None]] = set()  # retired workers being waited for
        self.started = 0  # workers started so far (tests and the bench read it)

    def worker_pids(self) -> list[int]:
        return [w.pid for w in self._live if w.process.returncode is None]

    async def chunks(self, path: Path, kind: str, target: int, overlap: int) -> list[Chunk]:
        """The file's chunks (`chunking.chunk_document`), or ParseError with the reason."""
        from sage_sidecar.knowledge.chunking import Chunk

        chunks: list[Chunk] = []

        def collect(message: dict[str, Any]) -> None:
            chunks.extend(Chunk(*row) for row in message["chunks"])

        request = {"op": "chunks", "path": str(path), "kind": kind, "target": target,
                   "overlap": overlap}  # fmt: skip
        await self._run(request, collect)
        return chunks

    async def text(self, path: Path, kind: str, max_chars: int) -> tuple[str, int]:
        """The file's text, cut to `max_chars`, and its whole length."""
        result: dict[str, Any] = {}
        request = {"op": "text", "path": str(path), "kind": kind, "max_chars": max_chars}
        await self._run(request, result.update)
        return result["text"], result["chars"]

    async def page_text(self, html: str, max_chars: int, source: str) -> str:
        """A fetched page's HTML as text (tools/page_text.py), cut to `max_chars`."""
        result: dict[str, Any] = {}
        request = {"op": "page_text", "path": source, "html": html, "max_chars": max_chars}
        await self._run(request, result.update)
        text: str = result["text"]
        return text

    async def image(self, path: Path, target_stem: Path) -> dict[str, Any]:
        """An attached image checked, downscaled and written to `target_stem` + its suffix, in the
        worker (image_decode.py): its mime, suffix, width and height; ParseError with the reason
        (code "image.unreadable" for a file that is not a readable image)."""
        result: dict[str, Any] = {}
        request = {"op": "image", "path": str(path), "target": str(target_stem)}
        await self._run(request, result.update)
        return result

    async def close(self) -> None:
        """Kill every worker (the sidecar is stopping)."""
        workers = list(self._live)
        self._idle.clear()
        for worker in workers:
            worker.kill()
        for worker in workers:
            with contextlib.suppress(Exception):
                await worker.process.wait()

    # --- one parse --------------------------------------------------------------------------

    async def _run(self, request: dict[str, Any], on_result: Callable[[Any], None]) -> None:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.limits.workers)
        async with self._slots:
            worker = await self._take()
            reusable = False
            try:
                async with asyncio.timeout(self.limits.timeout_s):
                    await worker.send(request)
                    while True:
                        message = await worker.receive()
                        if "error" in message:
                            error = message["error"]
                            reusable = error["code"] != "parse.too_much_memory"
                            raise ParseError(error["message"], error["code"])
                        if "done" in message:
                            if request["op"] in ("text", "image"):
                                on_result(message["done"])
                            reusable = True
                            return
                        on_result(message)
            except TimeoutError:
                raise ParseError(
                    f"Reading the file took longer than {self.limits.timeout_s:g} s; it was "
                    "stopped.",
                    "parse.timeout",
                ) from None
            except _WorkerDied as died:
                log.warning("parse worker %s died (%s) on %s", worker.pid, died, request["path"])
                raise ParseError(
                    f"The parser stopped unexpectedly (exit status {died.returncode}); the file "
                    f"may be corrupt or need more than {self.limits.memory_mb} MB to read.",
                    "parse.crashed",
                ) from None
            finally:
                if reusable:
                    self._give_back(worker)
                else:  # overran, failed badly, or the caller was cancelled (file deleted)
                    worker.kill()
                    self._live.discard(worker)
                    await _reap(worker)

    async def _take(self) -> _Worker:
        while self._idle:
            worker = self._idle.pop()
            if worker.idle_timer is not None:
                worker.idle_timer.cancel()
            if worker.process.returncode is None:
                return worker
            self._live.discard(worker)
        process = await asyncio.create_subprocess_exec(
            *worker_command(self.limits.memory_mb),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=None,  # a worker's traceback goes where the sidecar's does
            env=_worker_env(),
            limit=MAX_FRAME_BYTES,
        )
        worker = _Worker(process)
        self._live.add(worker)
        self.started += 1
        try:  # the worker says so once its imports are done: the file's budget starts after
            async with asyncio.timeout(START_TIMEOUT_S):
                if await worker.receive() != {"ready": True}:
                    raise _WorkerDied(-1)
        except (TimeoutError, _WorkerDied, ValueError) as error:
            worker.kill()
            self._live.discard(worker)
            await _reap(worker)
            raise ParseError(
                f"The document reader could not be started ({error}).", "parse.crashed"
            ) from None
        except BaseException:
            worker.kill()
            self._live.discard(worker)
            raise
        return worker

    def _give_back(self, worker: _Worker) -> None:
        def retire() -> None:
            if worker in self._idle:
                self._idle.remove(worker)
                self._live.discard(worker)
                worker.kill()
                task = asyncio.get_running_loop().create_task(_reap(worker))
                self._reaping.add(task)
                task.add_done_callback(self._reaping.discard)

        worker.idle_timer = asyncio.get_running_loop().call_later(self.limits.idle_s, retire)
        self._idle.append(worker)


async def _reap(worker: _Worker) -> None:
    with contextlib.suppress(Exception):
        await asyncio.shield(worker.process.wait())


# --- the worker process ---------------------------------------------------------------------


def _limit_memory(memory_mb: int) -> None:
    if sys.platform != "linux":  # macOS does not enforce RLIMIT_AS; Windows has no rlimits
        return
    import resource

    limit = memory_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _handle(request: dict[str, Any], write: Callable[[dict[str, Any]], None]) -> None:
    from sage_sidecar.knowledge.chunking import chunk_document
    from sage_sidecar.knowledge.parsers import parse_file

    if request["op"] == "image":  # an attached image: decoded here, never in the sidecar
        from sage_sidecar.knowledge.image_decode import normalise

        write({"done": normalise(Path(request["path"]), Path(request["target"]))})
        return

    if request["op"] == "page_text":  # fetch_url's page: HTML in the request, not a file
        from sage_sidecar.knowledge.page_text import html_to_text

        text = html_to_text(request["html"])
        write({"text": text[: request["max_chars"]], "chars": len(text)})
        write({"done": {}})
        return

    document = parse_file(Path(request["path"]), request["kind"])
    if request["op"] == "text":
        text = document.text
        write({"done": {"text": text[: request["max_chars"]], "chars": len(text)}})
        return
    frame: list[list[Any]] = []
    size = 0
    for chunk in chunk_document(document, request["target"], request["overlap"]):
        frame.append([chunk.ordinal, chunk.text, chunk.heading, chunk.page, chunk.char_start,
                      chunk.char_end, chunk.token_count])  # fmt: skip
        size += len(chunk.text)
        if size >= FRAME_CHARS:
            write({"chunks": frame})
            frame, size = [], 0
    if frame:
        write({"chunks": frame})
    write({"done": {}})


def serve(memory_mb: int) -> int:
    """The worker's main loop: one JSON request per stdin line, answered by JSON lines; exits at
    stdin EOF (the sidecar closed it or is gone)."""
    import warnings

    die_with_parent()
    lower_priority()  # a hostile file's parse must not take a core from the event loop
    _limit_memory(memory_mb)
    logging.disable(logging.WARNING)  # pypdf warns per odd object; the reason comes back anyway
    warnings.simplefilter("ignore")
    # Import the parsers now, while idle, not during the first file's budget.
    import bs4  # noqa: F401
    import docx  # noqa: F401
    import pypdf  # noqa: F401

    out = sys.stdout.buffer

    def write(message: dict[str, Any]) -> None:
        out.write(json.dumps(message, ensure_ascii=False).encode() + b"\n")
        out.flush()

    write({"ready": True})
    for line in sys.stdin.buffer:
        request = json.loads(line)
        try:
            _handle(request, write)
        except ParseError as error:
            write({"error": {"code": error.code, "message": str(error)}})
        except MemoryError:
            write({"error": {"code": "parse.too_much_memory",
                             "message": f"Reading the file needs more than {memory_mb} MB of "
                                        "memory; it was stopped."}})  # fmt: skip
            return 3  # the heap may be fragmented past use: the sidecar starts a fresh worker
        except Exception as error:  # a bug of ours on an odd file: fail the file, keep serving
            write({"error": {"code": "parse.invalid",
                             "message": f"The file could not be read ({type(error).__name__})."}})  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(serve(int(sys.argv[1])))
