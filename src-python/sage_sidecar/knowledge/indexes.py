"""The open vector indexes, one per knowledge base, under `<data>/vectors/<kb_id>/`.

Opening an index reads it from disk, so each is opened once and kept; dropping a base (or
re-embedding it with a new embedder) closes and deletes its folder. Synchronous like
`VectorIndex`: async callers use `asyncio.to_thread`. The vector engine (and numpy) is imported
on first use, so a sidecar with no knowledge base does not load it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sage_sidecar.knowledge.vectors import VectorIndex


class IndexCache:
    def __init__(self, vectors_dir: Path) -> None:
        self._root = vectors_dir
        self._open: dict[str, VectorIndex] = {}
        self._lock = threading.Lock()

    def directory(self, kb_id: str) -> Path:
        return self._root / kb_id

    def get(self, kb_id: str, dim: int) -> VectorIndex:
        """The base's index, created when it has none yet."""
        from sage_sidecar.knowledge.vectors import VectorIndex

        with self._lock:
            index = self._open.get(kb_id)
            if index is None:
                index = VectorIndex.open(self.directory(kb_id), dim)
                # A background growth, once built, is installed by a save of its own: it lands
                # even when no ingest follows, and only while the index is still this base's.
                index.on_grown = lambda: self._install_growth(kb_id, index)
                self._open[kb_id] = index
            return index

    def existing(self, kb_id: str, dim: int | None) -> VectorIndex | None:
        """The base's index if one was ever written, else None (nothing to search or remove)."""
        if dim is None:
            return None
        with self._lock:
            if kb_id not in self._open and not self.directory(kb_id).exists():
                return None
        return self.get(kb_id, dim)

    def opened(self, kb_id: str, dim: int | None) -> VectorIndex | None:
        """`existing` when the index is open already, without the lock or the disk, so the
        event loop may ask: a dict read is atomic, and a save holding the lock for seconds must
        not stall it. None when it is not open (then ask `existing`, off the loop)."""
        return self._open.get(kb_id) if dim is not None else None

    def current(self, kb_id: str) -> VectorIndex | None:
        """The base's index if it is open (not dropped since)."""
        with self._lock:
            return self._open.get(kb_id)

    def write(
        self,
        kb_id: str,
        index: VectorIndex,
        change: Callable[[VectorIndex], None],
        *,
        save: bool = True,
    ) -> bool:
        """Change an index (and save it durably), unless it was dropped meanwhile (its base
        deleted or re-embedded while a cancelled ingest's thread was still running): a dropped
        index must not write its folder back. False when skipped."""
        if save:
            index.settle()  # waits only at the exact part's hard limit, outside both locks
        with self._lock:
            if self._open.get(kb_id) is not index:
                return False
            change(index)
            if save:
                # The graph's growth past the exact limit (minutes at 1M rows) is built in the
                # background and installed by a later save: this one never waits for it.
                index.save(background=True)
            return True

    def _install_growth(self, kb_id: str, index: VectorIndex) -> None:
        self.write(kb_id, index, _unchanged)

    def drop(self, kb_id: str) -> None:
        from sage_sidecar.knowledge.vectors import drop_index

        with self._lock:
            index = self._open.pop(kb_id, None)
            if index is not None:
                index.close()  # a growth still running throws its graph away
            drop_index(self.directory(kb_id))


def _unchanged(_index: VectorIndex) -> None:
    pass
