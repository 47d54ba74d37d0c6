"""Per-knowledge-base vector index under <data_dir>/vectors/<kb_id>/."""

from collections.abc import Collection, Iterable
from pathlib import Path

import numpy


class VectorIndex:
    @classmethod
    def open(cls, directory: Path, dim: int) -> "VectorIndex":
        raise NotImplementedError

    def add(self, ids: numpy.ndarray, vectors: numpy.ndarray) -> None:
        raise NotImplementedError

    def remove(self, ids: Iterable[int]) -> None:
        raise NotImplementedError

    def search(
        self, query: numpy.ndarray, k: int, allowed_ids: Collection[int] | None = None
    ) -> list[tuple[int, float]]:
        raise NotImplementedError

    def save(self) -> None:
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError


def drop_index(directory: Path) -> None:
    raise NotImplementedError
