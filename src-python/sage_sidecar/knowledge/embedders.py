"""Embedders: the offline models shipped with the app (all-MiniLM-L6-v2, the default, and the
multilingual USE v3: local_models.py), and a configured provider's embeddings as an alternative
per knowledge base.

A knowledge base stores its embedder's id: `local:all-minilm-l6-v2`, `local:use-multilingual-v3`,
or `provider:<provider_id>:<model>` (the model may itself contain colons, e.g. Ollama tags).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from sage_sidecar.core.errors import InvalidError, NotFoundError
from sage_sidecar.knowledge.embed_process import EmbedderProcess
from sage_sidecar.knowledge.embed_provider import EmbeddingError, ProviderEmbedder
from sage_sidecar.knowledge.local_models import LOCAL_MODELS
from sage_sidecar.schemas.knowledge import LOCAL_EMBEDDER_ID
from sage_sidecar.storage.db import Database
from sage_sidecar.storage.models import Provider

if TYPE_CHECKING:
    import numpy

__all__ = [
    "LOCAL_EMBEDDER_ID",
    "Embedder",
    "EmbeddingError",
    "local_embedder",
    "provider_embedder_id",
    "resolve_embedder",
]

PROVIDER_PREFIX = "provider:"


class Embedder(Protocol):
    id: str

    async def embed(self, texts: Sequence[str]) -> numpy.ndarray:
        """float32, shape (len(texts), dim), rows L2-normalised; off the event loop."""
        ...

    @property
    def dim(self) -> int | None:
        """Known up front for the local model; for a provider, after its first answer."""
        ...


def local_embedder(embedder_id: str = LOCAL_EMBEDDER_ID) -> EmbedderProcess:
    """The process-wide offline model of that id (a LOCAL_MODELS key), in a child process started
    on its first embed() (embed_process.py); `embed_local.LocalMiniLM` and `embed_use.LocalUSE`
    are the models themselves, in-process."""
    return _embedder_process(embedder_id)


@functools.cache  # keyed by the id alone: `local_embedder()` is `local_embedder(LOCAL_…)`
def _embedder_process(embedder_id: str) -> EmbedderProcess:
    return EmbedderProcess(LOCAL_MODELS[embedder_id])


def provider_embedder_id(provider_id: str, model: str) -> str:
    return f"{PROVIDER_PREFIX}{provider_id}:{model}"


async def resolve_embedder(
    embedder_id: str, *, db: Database | AsyncSession, http: httpx.AsyncClient
) -> Embedder:
    if embedder_id in LOCAL_MODELS:
        return local_embedder(embedder_id)
    provider_id, _, model = embedder_id.removeprefix(PROVIDER_PREFIX).partition(":")
    if not embedder_id.startswith(PROVIDER_PREFIX) or not provider_id or not model:
        raise InvalidError(
            f"unknown embedder {embedder_id!r}: use one of {sorted(LOCAL_MODELS)} "
            f"or '{PROVIDER_PREFIX}<provider id>:<model>'",
            code="embedder.unknown",
            id=embedder_id,
        )
    if isinstance(db, AsyncSession):
        provider = await db.get(Provider, provider_id)
    else:
        async with db.session() as session:
            provider = await session.get(Provider, provider_id)
    if provider is None:
        raise NotFoundError("provider", provider_id)
    if provider.kind == "anthropic":
        raise InvalidError(
            f"provider {provider.name!r} (Anthropic) has no embeddings API",
            code="embedder.no_embeddings_api",
            provider=provider.name,
        )
    if not provider.enabled:
        raise InvalidError(
            f"provider {provider.name!r} is disabled",
            code="embedder.provider_disabled",
            provider=provider.name,
        )
    return ProviderEmbedder(
        embedder_id=embedder_id,
        provider_name=provider.name,
        kind=provider.kind,
        base_url=provider.base_url,
        api_key=provider.api_key,
        model=model,
        http=http,
    )
