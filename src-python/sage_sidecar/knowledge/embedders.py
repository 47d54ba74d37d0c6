"""Embedders: the offline all-MiniLM-L6-v2 model shipped with the app, and provider embeddings."""

from collections.abc import Sequence
from typing import Any, Protocol

import httpx
import numpy

LOCAL_EMBEDDER_ID = "local:all-minilm-l6-v2"


class Embedder(Protocol):
    id: str

    async def embed(self, texts: Sequence[str]) -> numpy.ndarray: ...

    @property
    def dim(self) -> int | None: ...


def local_embedder() -> Embedder:
    raise NotImplementedError


async def resolve_embedder(embedder_id: str, *, db: Any, http: httpx.AsyncClient) -> Embedder:
    raise NotImplementedError
