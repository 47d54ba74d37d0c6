"""The ingest worker: queued files become searchable chunks and vectors, one file at a time.

The queue is the files table itself: a file's `status` goes queued → parsing → embedding → ready,
or failed with a readable `error`. Nothing lives only in memory, so a restart loses no work:

- At start-up (`recover`), a file left in parsing/embedding by a crash is queued again; at its
  next claim its partial chunks and vectors are removed first. A file that was cut off
  MAX_ATTEMPTS times fails instead of crashing every start; a clean shutdown (the app's quit)
  does not count as an attempt.
- A file is `ready` only after its chunks are committed and its vectors are saved durably, so a
  file shown as ready is never half-indexed; search also ignores chunks of files not ready.
- Saves are grouped: rewriting a large index after every small file would cost more than the
  embedding, so embedded files of one base wait (as `embedding`, progress 1) until the queue
  moves to another base, runs dry, or SAVE_EVERY_S passes; then one save makes them all ready.

One worker per process, but a pipeline of PIPELINE_DEPTH files: while one file embeds (in the
embedder's process), the next ones are claimed, parsed and chunked (in a parse worker process with
a time budget and a memory limit, `parse_worker.py`) and their chunks written to SQLite, so the
embedder never waits for them (bench/ingest). The embedder never waits for a round trip either:
a file keeps its next batch queued at the embedder while one runs (EMBED_AHEAD), and a file sends
its batches as soon as the file claimed before it has sent its last, so the embedder finds the
next batch waiting whenever it finishes one (it may run a short one first, as it does a query's).
Vectors go into the index in the order the files were claimed (each waits for its predecessor's `stored` turn), so
the index and the grouped saves see them in queue order. A file deleted or re-indexed mid-way is cancelled at whichever stage it is in
(`cancel`); the parse worker process is killed with it.
Progress goes out on the event bus as `knowledge.file` and `knowledge.base` events.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import sys
import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from sage_sidecar.core.errors import DomainError
from sage_sidecar.core.events import EventBus
from sage_sidecar.knowledge.chunking import Chunk
from sage_sidecar.knowledge.embedders import Embedder
from sage_sidecar.knowledge.indexes import IndexCache
from sage_sidecar.knowledge.parse_worker import ParserPool
from sage_sidecar.knowledge.parsers import ParseError
from sage_sidecar.schemas.protocol.events import KnowledgeBaseEvent, KnowledgeFileEvent
from sage_sidecar.storage import ingest_queue as queue
from sage_sidecar.storage import knowledge as store
from sage_sidecar.storage.db import Database
from sage_sidecar.storage.locked import is_database_locked, retry_while_locked
from sage_sidecar.storage.models import KnowledgeBase, KnowledgeFile

if TYPE_CHECKING:  # numpy loads with the first embedding, not at start-up
    import numpy

log = logging.getLogger(__name__)
T = TypeVar("T")

EMBED_BATCH = 64
# Batches a file has at the embedder at once: the next one waits there while one runs, so the
# model never idles for the round trip (result back, next request out) between two.
EMBED_AHEAD = 2
MAX_ATTEMPTS = 3
# Files in flight: one embedding, the next one's batches waiting at the embedder behind it, and a
# third parsed and written meanwhile, so a short file that embeds in less time than the next one
# takes to parse does not leave the embedder idle. More would only hold more chunks in memory.
PIPELINE_DEPTH = 3
PROGRESS_WRITE_S = 1.0  # progress is published every batch but written at most this often
SAVE_EVERY_S = 2.0  # longest an embedded file waits for the grouped index save
# A failing embedder call fails its file only: the files before and after it go on.
EMBED_FAILED = "The embedder failed on this file: {detail}"
INTERRUPTED = "Indexing was interrupted {n} times while reading this file; it was given up."

EmbedderFor = Callable[[str], Awaitable[Embedder]]


class IngestFailure(Exception):
    """This file cannot be indexed; the message is shown to the user."""


async def _to_the_end(work: Awaitable[T]) -> T:
    """Run a database write to its end even if this task is cancelled meanwhile, then let the
    cancel go on. `cancel()` lands at any await; inside a commit it would cut a transaction off
    mid-statement and could leave its connection holding SQLite's write lock (docs/architecture.md,
    "Cancellation and the database"). Parsing and embedding stay cancellable."""
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait({task})
        raise


@dataclass(frozen=True)
class _Turn:
    """A file's two hand-offs to the file claimed after it: `sent` (its batches are all with the
    embedder, the next file may send its own) and `stored` (its vectors are in the index)."""

    sent: asyncio.Future[None]
    stored: asyncio.Future[None]

    @classmethod
    def new(cls) -> _Turn:
        loop = asyncio.get_running_loop()
        return cls(loop.create_future(), loop.create_future())

    def hand_on(self) -> None:
        for future in (self.sent, self.stored):
            if not future.done():
                future.set_result(None)


@dataclass(frozen=True)
class Job:
    file_id: str
    kb_id: str
    path: Path
    kind: str
    name: str
    embedder: str
    chunk_tokens: int
    chunk_overlap: int
    embedding_dim: int | None
    leftovers: bool = True  # chunks of an interrupted attempt may be there to remove first


class IngestWorker:
    def __init__(
        self,
        db: Database,
        events: EventBus,
        indexes: IndexCache,
        storage_dir: Path,
        embedder_for: EmbedderFor,
        parser: ParserPool,
    ) -> None:
        self._db = db
        self._events = events
        self._indexes = indexes
        self._storage = storage_dir
        self._embedder_for = embedder_for
        self._parser = parser
        self._wake = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self._active: dict[str, tuple[Job, asyncio.Task[None]]] = {}  # file id → its pipeline
        self._last_turn: _Turn | None = None  # the latest file's turns (to send, to store)
        self._pending: list[Job] = []  # embedded, in the index in memory, waiting for its save
        self._pending_since = 0.0
        self._saving = asyncio.Lock()  # the loop and a file switching bases may both save
        self.embed_batch = EMBED_BATCH

    # --- life -------------------------------------------------------------------------------

    async def start(self) -> None:
        await self.recover()
        self._loop_task = asyncio.create_task(self._run())
        self.wake()

    async def stop(self) -> None:
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
        await self._save_pending()  # embedded files need not be embedded again after a restart

    @property
    def in_flight(self) -> int:
        """Files being parsed or embedded right now (0 once stopped)."""
        return len(self._active)

    def wake(self) -> None:
        self._wake.set()

    async def recover(self) -> None:
        """Files a previous process left mid-way: queue them again, or fail them if they keep
        getting cut off."""
        async with self._db.session() as session:
            rows = await session.scalars(
                select(KnowledgeFile).where(KnowledgeFile.status.in_(("parsing", "embedding")))
            )
            for file in rows:
                if file.attempts >= MAX_ATTEMPTS:
                    file.status, file.error = "failed", INTERRUPTED.format(n=file.attempts)
                else:
                    file.status = "queued"
                file.progress = 0.0
                log.warning("file %s was interrupted mid-ingest; now %s", file.id, file.status)
            await session.commit()

    async def cancel(self, *, file_ids: Collection[str] = (), kb_id: str | None = None) -> None:
        """Stop work on these files (or this base) now: they are being deleted or re-indexed."""
        self._pending = [j for j in self._pending if j.file_id not in file_ids and j.kb_id != kb_id]
        tasks = [task for job, task in self._active.values()
                 if job.file_id in file_ids or job.kb_id == kb_id]  # fmt: skip
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)

    async def _run(self) -> None:
        # One "database is locked" (a writer elsewhere held the lock past the busy timeout) must
        # not end the worker: it waits, longer each time, and carries on.
        await retry_while_locked("ingest worker", self._work)

    async def _work(self) -> None:
        try:
            while True:
                if self._pending and time.monotonic() - self._pending_since >= SAVE_EVERY_S:
                    await self._save_pending()
                await self._reap()
                if len(self._active) < PIPELINE_DEPTH:
                    self._wake.clear()  # before looking: a file queued from now on wakes us
                    job = await self._claim()
                    if job is not None:
                        self._start(job)
                        continue
                    if not self._active:
                        await self._save_pending()
                        await self._wake.wait()
                        continue
                await self._wait_for_change()
        finally:
            await self._abandon_active()

    def _start(self, job: Job) -> None:
        turn = _Turn.new()
        task = asyncio.create_task(self._process(job, self._last_turn, turn))
        self._last_turn = turn
        self._active[job.file_id] = (job, task)

    async def _wait_for_change(self) -> None:
        """Until a file in flight finishes, a new file is queued (if there is room for it), or
        the grouped save is due."""
        waits: set[asyncio.Future[Any]] = {task for _, task in self._active.values()}
        woken = None
        if len(self._active) < PIPELINE_DEPTH:
            woken = asyncio.ensure_future(self._wake.wait())
            waits.add(woken)
        try:
            await asyncio.wait(waits, timeout=SAVE_EVERY_S, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if woken is not None:
                woken.cancel()

    async def _reap(self) -> None:
        """Forget finished files; a locked database queues its file again and ends this run of
        the loop (_run waits before going on)."""
        for file_id, (job, task) in list(self._active.items()):
            if not task.done():
                continue
            del self._active[file_id]
            error = None if task.cancelled() else task.exception()
            if error is not None and is_database_locked(error):
                await retry_while_locked("ingest worker", self._queue_again, job)
                raise error
            if error is not None:
                log.error("ingest of %s crashed", job.file_id, exc_info=error)

    async def _abandon_active(self) -> None:
        """The loop ends (shutdown, or a locked database): files still in flight are cancelled
        and queued again, the attempt not counted (a quit or a lock is not the file's fault)."""
        if not self._active:
            return
        entries = list(self._active.values())
        self._active.clear()
        for _, task in entries:
            task.cancel()
        await asyncio.wait([task for _, task in entries])
        self._last_turn = None
        for job, _ in entries:
            try:
                await _to_the_end(self._queue_again(job))
            except Exception:  # recover() queues it again at the next start
                log.warning("could not queue %s again", job.file_id, exc_info=True)

    # --- one file -----------------------------------------------------------------------------

    async def _claim(self) -> Job | None:
        async with self._db.session() as session:
            claimed = await queue.claim_next(session)
        if claimed is None:
            return None
        file = claimed.file
        self._publish_file(file)
        return Job(file.id, file.kb_id, self._storage / claimed.stored_path, claimed.kind,
                   file.name, claimed.embedder, claimed.chunk_tokens, claimed.chunk_overlap,
                   claimed.embedding_dim, claimed.leftovers)  # fmt: skip

    async def _process(self, job: Job, after: _Turn | None, turn: _Turn) -> None:
        """Parse and write this file's chunks at once; send its batches to the embedder once the
        file claimed before it has sent all of its own (`after.sent`), so the embedder finds the
        next file's first batch waiting when it finishes the last one of this file; store its
        vectors once that file has stored its own (`after.stored`). Hands both turns on (`turn`)
        however this ends."""
        started = time.perf_counter()
        try:
            if job.leftovers:
                await _to_the_end(unindex_files(
                    self._db, self._indexes, job.kb_id, job.embedding_dim, [job.file_id]))  # fmt: skip
            chunks = await self._parser.chunks(
                job.path, job.kind, job.chunk_tokens, job.chunk_overlap
            )  # cancelled (file deleted): the worker process is killed
            if not chunks:
                raise IngestFailure("No text found in the file.")
            embedder = await self._embedder_for(job.embedder)
            await _import_numpy()
            ids = await _to_the_end(self._insert_chunks(job, chunks))
            if after is not None:
                await after.sent  # always resolved, however the file before this one ended
            try:
                vectors = await self._embed(job, embedder, chunks, turn.sent)
            except (asyncio.CancelledError, DomainError):
                raise
            except Exception as error:
                log.exception("embedding %s failed", job.file_id)
                raise IngestFailure(EMBED_FAILED.format(detail=_first_line(error))) from error
            if after is not None:
                await after.stored  # the index and the grouped saves see files in queue order
            if self._pending and self._pending[0].kb_id != job.kb_id:
                await self._save_pending()  # one base per grouped save
            await self._store_vectors(job, ids, vectors)
            if not self._pending:
                self._pending_since = time.monotonic()
            self._pending.append(job)  # ready at the next grouped save
            log.info("embedded %s: %d chunks in %.1f s", job.file_id, len(chunks),
                     time.perf_counter() - started)  # fmt: skip
        except asyncio.CancelledError:
            raise
        except (ParseError, IngestFailure, DomainError) as error:  # DomainError: the embedder's
            await self._fail(job, str(error))
        except Exception as error:  # the index or the database: fail this file, keep the worker
            if is_database_locked(error):
                raise  # not the file's fault: _reap queues it again
            log.exception("ingest of %s failed", job.file_id)
            await self._fail(job, f"Indexing failed: {_first_line(error)}")
        finally:
            turn.hand_on()

    async def _insert_chunks(self, job: Job, chunks: list[Chunk]) -> list[int]:
        """The file's chunks in and the file `embedding`, in one transaction and one hand-off to
        the connection's thread (the rows are built there, not on the event loop). The base's
        counts do not change (only ready files count): no recount per file."""
        async with self._db.session() as session:
            ids, file = await queue.store_chunks(session, job.kb_id, job.file_id, chunks)
        if file is not None:
            self._publish_file(file)
        return ids

    async def _embed(
        self, job: Job, embedder: Embedder, chunks: list[Chunk], sent: asyncio.Future[None]
    ) -> numpy.ndarray:
        """The file's vectors, its batches sent EMBED_AHEAD at a time (the next one waits in the
        embedder while this one runs); `sent` resolves once the last batch is sent."""
        import numpy

        parts: list[numpy.ndarray] = []
        written = time.monotonic()
        starts = range(0, len(chunks), self.embed_batch)
        requests: list[asyncio.Task[numpy.ndarray]] = []

        def send(n: int) -> None:
            batch = chunks[starts[n] : starts[n] + self.embed_batch]
            texts = [c.embedding_text() for c in batch]
            requests.append(asyncio.ensure_future(embedder.embed(texts)))
            if n == len(starts) - 1 and not sent.done():
                sent.set_result(None)

        try:
            # The request tasks were scheduled before `sent` wakes the next file: they reach the
            # embedder first (the loop runs callbacks in order), so files are sent in queue order.
            for n in range(min(EMBED_AHEAD, len(starts))):
                send(n)
            for n, start in enumerate(starts):
                parts.append(await requests[n])
                if n + EMBED_AHEAD < len(starts):
                    send(n + EMBED_AHEAD)
                batch_size = min(self.embed_batch, len(chunks) - start)
                progress = round((start + batch_size) / len(chunks), 3)
                self._events.publish(KnowledgeFileEvent(
                    kb_id=job.kb_id, file_id=job.file_id, name=job.name, status="embedding",
                    progress=progress, error=None, chunk_count=len(chunks)))  # fmt: skip
                if time.monotonic() - written >= PROGRESS_WRITE_S:
                    written = time.monotonic()
                    await _to_the_end(self._write_progress(job.file_id, progress))
        finally:
            for request in requests:  # cancelled or failed mid-way: the rest are not wanted
                request.cancel()
            if requests:
                await asyncio.wait(requests)
            for request in requests:  # retrieved, so none is logged as never retrieved
                if not request.cancelled():
                    request.exception()
        return numpy.concatenate(parts) if parts else numpy.zeros((0, embedder.dim or 0))

    async def _write_progress(self, file_id: str, progress: float) -> None:
        async with self._db.session() as session:
            await queue.write_progress(session, file_id, progress)

    async def _store_vectors(self, job: Job, ids: list[int], vectors: numpy.ndarray) -> None:
        import numpy

        if not ids:
            return
        dim = int(vectors.shape[1])
        if job.embedding_dim != dim:  # the base's first vectors, or a mismatch to report
            await _to_the_end(self._claim_dimension(job.kb_id, dim))
        keys = numpy.asarray(ids, dtype=numpy.int64)

        def add() -> bool:  # one hand-off to a thread for both steps
            index = self._indexes.get(job.kb_id, dim)
            return self._indexes.write(job.kb_id, index, lambda i: i.add(keys, vectors), save=False)

        if not await asyncio.to_thread(add):
            raise IngestFailure("The knowledge base was re-indexed or deleted meanwhile.")

    async def _claim_dimension(self, kb_id: str, dim: int) -> None:
        """The base's first vectors fix its dimension; later ones must match it."""
        async with self._db.session() as session:
            kb = await session.get(KnowledgeBase, kb_id)
            if kb is None:
                raise IngestFailure("The knowledge base was deleted.")
            if kb.embedding_dim is None:
                kb.embedding_dim = dim
                await session.commit()
            elif kb.embedding_dim != dim:
                raise IngestFailure(
                    f"The embedder returned {dim}-dimensional vectors, but this knowledge base "
                    f"holds {kb.embedding_dim}-dimensional ones; re-embed the knowledge base."
                )

    async def _save_pending(self) -> None:
        """One durable save of the base's index, then every file waiting for it is ready. If the
        index was dropped meanwhile (base deleted or re-indexed), they are already gone or
        queued again, and nothing is marked."""
        async with self._saving:
            await self._save_pending_now()

    async def _save_pending_now(self) -> None:
        if not self._pending:
            return
        # A copy: files embedding meanwhile append to self._pending and wait for the next save.
        jobs = list(self._pending)  # kept until marked: a locked database leaves them for next time
        kb_id = jobs[0].kb_id
        index = self._indexes.current(kb_id)
        saved = {id(job) for job in jobs}  # by identity: a set, not a scan of `jobs` per job
        if index is None or not await asyncio.to_thread(
            self._indexes.write, kb_id, index, lambda _index: None
        ):
            self._pending = [j for j in self._pending if id(j) not in saved]
            return
        async with self._db.session() as session:
            ready, kb = await queue.mark_ready(session, kb_id, [j.file_id for j in jobs])
        # A file may have embedded meanwhile: it waits for the next save.
        self._pending = [j for j in self._pending if id(j) not in saved]
        self._pending_since = time.monotonic()  # those left wait for the next save
        for file in ready:
            self._publish_file(file)
        if kb is not None:
            publish_base(self._events, kb)

    async def _queue_again(self, job: Job) -> None:
        """A file cut off by a locked database: back in the queue, the attempt not counted."""
        async with self._db.session() as session:
            await session.execute(
                update(KnowledgeFile)
                .where(KnowledgeFile.id == job.file_id,
                       KnowledgeFile.status.in_(("parsing", "embedding")))
                .values(status="queued", progress=0.0, attempts=KnowledgeFile.attempts - 1)
            )  # fmt: skip
            await session.commit()

    async def _set(self, session: AsyncSession, job: Job, **values: Any) -> None:
        file = await session.get(KnowledgeFile, job.file_id)
        if file is None:
            return
        for name, value in values.items():
            setattr(file, name, value)
        kb = await store.refresh_counts(session, job.kb_id)
        await session.commit()
        self._publish_file(file)
        if kb is not None:
            publish_base(self._events, kb)

    async def _fail(self, job: Job, error: str) -> None:
        await _to_the_end(self._mark_failed(job, error))

    async def _mark_failed(self, job: Job, error: str) -> None:
        log.warning("file %s failed: %s", job.file_id, error)
        with contextlib.suppress(Exception):  # whatever was written of it goes
            await unindex_files(
                self._db, self._indexes, job.kb_id, await self._dim(job.kb_id), [job.file_id]
            )
        async with self._db.session() as session:
            await self._set(session, job, status="failed", error=error, progress=0.0,
                            chunk_count=0)  # fmt: skip

    async def _dim(self, kb_id: str) -> int | None:
        async with self._db.session() as session:
            kb = await session.get(KnowledgeBase, kb_id)
            return kb.embedding_dim if kb else None

    def _publish_file(self, file: KnowledgeFile | queue.FileRow) -> None:
        self._events.publish(KnowledgeFileEvent(
            kb_id=file.kb_id, file_id=file.id, name=file.name, status=file.status,
            progress=file.progress, error=file.error, chunk_count=file.chunk_count))  # fmt: skip


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:300] if text else type(error).__name__


async def _import_numpy() -> None:
    """numpy's first import takes 0.1-0.2 s: in a thread, not on the event loop."""
    if "numpy" not in sys.modules:
        await asyncio.to_thread(importlib.import_module, "numpy")


def publish_base(events: EventBus, kb: KnowledgeBase | queue.BaseCounts) -> None:
    events.publish(KnowledgeBaseEvent(kb_id=kb.id, status=kb.status, file_count=kb.file_count,
                                      chunk_count=kb.chunk_count))  # fmt: skip


async def unindex_files(
    db: Database, indexes: IndexCache, kb_id: str, dim: int | None, file_ids: Collection[str]
) -> None:
    """Remove these files' vectors, then their chunks (and so their FTS rows). Vectors first: if
    the process dies in between, the chunks are still there to find the vectors by next time."""
    async with db.session() as session:
        ids = await store.chunk_ids(session, file_ids)
        if not ids:
            return
        index = await asyncio.to_thread(indexes.existing, kb_id, dim)
        if index is not None:
            await asyncio.to_thread(indexes.write, kb_id, index, lambda i: i.remove(ids))
        await store.delete_chunks(session, file_ids)
        await session.commit()
