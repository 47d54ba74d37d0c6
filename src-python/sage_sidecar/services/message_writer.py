"""Persist a streaming reply without a write per token: text and parts are buffered in memory and
flushed on a short interval and at the end. A crash loses at most one interval of text; anything
already flushed is in the WAL and survives."""

import asyncio
import contextlib
from datetime import datetime
from typing import Any

from sqlalchemy import update

from sage_sidecar.schemas.protocol.base import dump
from sage_sidecar.schemas.protocol.parts import Citation, Failure, MessagePart, Usage
from sage_sidecar.storage.db import Database
from sage_sidecar.storage.models import Message, utcnow

FLUSH_INTERVAL_S = 0.25


class MessageWriter:
    def __init__(self, db: Database, message_id: str, interval: float = FLUSH_INTERVAL_S) -> None:
        self._db = db
        self.message_id = message_id
        self._interval = interval
        self._chunks: list[str] = []
        self.parts: list[MessagePart] = []  # models, changed in place (plan steps), dumped on flush
        self.first_token_at: datetime | None = None
        self.model: str | None = None  # written with the text, not in a transaction of its own
        self.citations: list[Citation] | None = None  # knowledge-base sources, same way
        self._dirty = False
        self._task: asyncio.Task[None] | None = None

    @property
    def content(self) -> str:
        return "".join(self._chunks)

    def start(self) -> None:
        self._task = asyncio.create_task(self._flush_periodically())

    def append_text(self, text: str) -> None:
        if self.first_token_at is None:
            self.first_token_at = utcnow()
        self._chunks.append(text)
        self._dirty = True

    def add_part(self, part: MessagePart) -> None:
        self.parts.append(part)
        self._dirty = True

    def touch(self) -> None:
        """A part was changed in place (e.g. a plan step's status): write it at the next flush."""
        self._dirty = True

    async def _flush_periodically(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            if self._dirty:
                await self.flush()

    async def flush(self, **final: Any) -> None:
        self._dirty = False
        citations = None if self.citations is None else [dump(c) for c in self.citations]
        values = {"content": self.content, "parts": [dump(p) for p in self.parts],
                  "first_token_at": self.first_token_at, "model": self.model,
                  "citations": citations, **final}  # fmt: skip
        async with self._db.session() as session:
            await session.execute(
                update(Message).where(Message.id == self.message_id).values(**values)
            )
            await session.commit()

    async def finish(
        self,
        status: str,
        error: str | None = None,
        usage: Usage | None = None,
        failure: Failure | None = None,
    ) -> None:
        """Stop the flusher and write the final state. Shielded: a cancelled stream still records
        how it ended."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await asyncio.shield(
            self.flush(
                status=status,
                error=error,
                usage=None if usage is None else dump(usage),
                failure=None if failure is None else dump(failure),
                completed_at=utcnow(),
            )  # fmt: skip
        )
