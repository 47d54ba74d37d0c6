"""Embeddings from a configured provider: OpenAI-compatible `POST …/embeddings` (OpenAI, LM Studio,
most gateways) or Ollama's native `POST /api/embed`.

Every failure becomes an EmbeddingError (a DomainError with the reason spelled out), so a caller
can fail one file or one request with a readable message and carry on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import httpx

from sage_sidecar.core.errors import UpstreamError
from sage_sidecar.providers.base import ProviderError
from sage_sidecar.providers.transport import CONNECT_TIMEOUT_S, READ_TIMEOUT_S, error_for_status

if TYPE_CHECKING:
    import numpy

# Inputs per request: OpenAI accepts up to 2048, local servers are happier with fewer.
REQUEST_BATCH = 64


class EmbeddingError(UpstreamError):
    default_code = "knowledge.embedding_failed"


class ProviderEmbedder:
    def __init__(
        self,
        *,
        embedder_id: str,
        provider_name: str,
        kind: str,
        base_url: str,
        api_key: str | None,
        model: str,
        http: httpx.AsyncClient,
    ) -> None:
        self.id = embedder_id
        self.model = model
        self._name = provider_name
        self._ollama = kind == "ollama"
        base = base_url.rstrip("/")
        if self._ollama:
            # Ollama's provider record holds its OpenAI-compatible base (…/v1); /api/embed is
            # the native endpoint, one level up.
            self._url = base.removesuffix("/v1") + "/api/embed"
        else:
            self._url = base + "/embeddings"
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = http
        self._dim: int | None = None

    @property
    def dim(self) -> int | None:
        return self._dim

    def _fail(self, reason: str) -> EmbeddingError:
        return EmbeddingError(
            f"Embedding with {self._name!r} ({self.model}) failed: {reason}",
            provider=self._name,
            model=self.model,
            reason=reason,
        )

    async def embed(self, texts: Sequence[str]) -> numpy.ndarray:
        import numpy

        if not texts:
            return numpy.zeros((0, self._dim or 0), dtype=numpy.float32)
        parts = [
            await self._request(list(texts[start : start + REQUEST_BATCH]))
            for start in range(0, len(texts), REQUEST_BATCH)
        ]
        vectors = numpy.concatenate(parts).astype(numpy.float32)
        norms = numpy.linalg.norm(vectors, axis=1, keepdims=True)
        if not numpy.all(numpy.isfinite(vectors)) or numpy.any(norms == 0):
            raise self._fail("the provider returned an empty or invalid vector")
        # Not every server normalises; the index compares by dot product.
        normalised: numpy.ndarray = vectors / norms
        return normalised

    async def _request(self, texts: list[str]) -> numpy.ndarray:
        import numpy

        timeout = httpx.Timeout(READ_TIMEOUT_S, connect=CONNECT_TIMEOUT_S)
        body = {"model": self.model, "input": texts}
        try:
            response = await self._http.post(
                self._url, json=body, headers=self._headers, timeout=timeout
            )
        except httpx.TimeoutException:
            raise self._fail(str(ProviderError("timeout"))) from None
        except httpx.HTTPError as error:
            raise self._fail(str(ProviderError("unreachable", type(error).__name__))) from None
        if response.status_code != 200:
            raise self._fail(str(error_for_status(response.status_code, response.text)))
        try:
            rows = self._rows(response.json())
            vectors = numpy.array(rows, dtype=numpy.float32)
        except (ValueError, KeyError, TypeError):
            raise self._fail("the response is not an embeddings list") from None
        if vectors.ndim != 2 or len(vectors) != len(texts):
            raise self._fail(f"asked for {len(texts)} vectors, got {len(vectors)}")
        if self._dim is not None and vectors.shape[1] != self._dim:
            raise self._fail(
                f"vectors changed size from {self._dim} to {vectors.shape[1]} dimensions"
            )
        self._dim = int(vectors.shape[1])
        return vectors

    def _rows(self, data: Any) -> list[list[float]]:
        if self._ollama:
            rows: list[list[float]] = data["embeddings"]
            return rows
        # OpenAI gives each row its input's index; do not rely on the order.
        return [item["embedding"] for item in sorted(data["data"], key=lambda i: i["index"])]
