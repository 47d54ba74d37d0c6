from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sage_sidecar.schemas.timestamps import UtcDateTime

# The offline embedders shipped with the app (knowledge/local_models.py): the default, English
# (embed_local.py), and the multilingual one (embed_use.py).
LOCAL_EMBEDDER_ID = "local:all-minilm-l6-v2"
MULTILINGUAL_EMBEDDER_ID = "local:use-multilingual-v3"


class KnowledgeBaseCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=10_000)
    # LOCAL_EMBEDDER_ID or MULTILINGUAL_EMBEDDER_ID (offline, shipped), or
    # "provider:<provider id>:<model>".
    embedder: str = Field(default=LOCAL_EMBEDDER_ID, min_length=1, max_length=300)
    chunk_tokens: int = Field(default=200, ge=32, le=1000)
    chunk_overlap: int = Field(default=40, ge=0, le=500)

    @model_validator(mode="after")
    def _overlap_fits(self) -> "KnowledgeBaseCreate":
        # With one of the two left out, the saved default fills it in and is cut to fit
        # (services/knowledge_settings.with_defaults).
        both = {"chunk_tokens", "chunk_overlap"} <= self.model_fields_set
        if both and self.chunk_overlap > self.chunk_tokens // 2:
            raise ValueError("chunk_overlap must be at most half of chunk_tokens")
        return self


class KnowledgeBaseUpdate(BaseModel):
    """A new embedder or chunking re-indexes every file of the base."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)
    embedder: str | None = Field(default=None, min_length=1, max_length=300)
    chunk_tokens: int | None = Field(default=None, ge=32, le=1000)
    chunk_overlap: int | None = Field(default=None, ge=0, le=500)


class KnowledgeBaseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    description: str
    embedder: str
    embedding_dim: int | None
    chunk_tokens: int
    chunk_overlap: int
    status: Literal["ready", "indexing"]
    file_count: int
    chunk_count: int
    created_at: UtcDateTime
    updated_at: UtcDateTime


FileStatus = Literal["queued", "parsing", "embedding", "ready", "failed"]


class KnowledgeFileOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    kb_id: str
    name: str
    kind: str
    size: int
    sha256: str
    status: FileStatus
    error: str | None
    progress: float
    chunk_count: int
    created_at: UtcDateTime
    updated_at: UtcDateTime
    duplicate: bool = False  # an add that matched a file already in the base (nothing was added)


class AddPaths(BaseModel):
    """Files the desktop app picked; the sidecar copies them into its storage."""

    paths: list[str] = Field(min_length=1, max_length=1000)


class SearchRequest(BaseModel):
    query: str = Field(min_length=1, max_length=4000)
    kb_ids: list[str] = Field(min_length=1, max_length=50)
    file_ids: list[str] | None = Field(default=None, max_length=1000)
    top_k: int = Field(default=5, ge=1, le=50)
    mode: Literal["hybrid", "vector", "bm25"] = "hybrid"
    mmr: bool = False  # drop near-duplicate passages (maximal marginal relevance)


class ChunkOut(BaseModel):
    chunk_id: int
    kb_id: str
    file_id: str
    file_name: str
    ordinal: int
    text: str
    heading: str | None
    page: int | None
    char_start: int
    char_end: int


class SearchHitOut(ChunkOut):
    score: float
    vector_rank: int | None  # 1-based rank in that retriever's list; None if it missed it
    vector_score: float | None  # cosine similarity
    bm25_rank: int | None
    bm25_score: float | None


class SearchOut(BaseModel):
    hits: list[SearchHitOut]
    took_ms: float
