"""Settings → Knowledge: what the knowledge machinery uses (read-only facts) and the one default
people set there, the chunking a new knowledge base starts with."""

from pydantic import BaseModel, Field, model_validator


class ChunkingDefaults(BaseModel):
    """The chunking a new knowledge base gets when its creation does not say (each base keeps its
    own afterwards; changing a base's chunking re-indexes it)."""

    chunk_tokens: int = Field(default=200, ge=32, le=1000)
    chunk_overlap: int = Field(default=40, ge=0, le=500)

    @model_validator(mode="after")
    def _overlap_fits(self) -> "ChunkingDefaults":
        if self.chunk_overlap > self.chunk_tokens // 2:
            raise ValueError("chunk_overlap must be at most half of chunk_tokens")
        return self


class LocalEmbedderOut(BaseModel):
    id: str
    dim: int
    present: bool  # the model file is where the app looks for it
    loaded: bool  # in memory in this process (it loads on the first embedding)
    threads: int  # per model run: the MiniLM's ONNX intra-op threads (SAGE_EMBEDDER_THREADS), USE 1
    multilingual: bool = False  # reads Chinese as well as English (else English only)


class RetrievalOut(BaseModel):
    """How a reply of an agent with knowledge bases retrieves (services/grounding.py)."""

    mode: str
    sources_per_reply: int


class BaseStorageOut(BaseModel):
    id: str
    name: str
    embedder: str
    file_count: int
    chunk_count: int
    files_bytes: int  # the stored copies of its files
    index_bytes: int  # its vector index on disk


class KnowledgeSettingsOut(BaseModel):
    defaults: ChunkingDefaults
    local_embedder: LocalEmbedderOut  # the default one (all-MiniLM-L6-v2)
    local_embedders: list[LocalEmbedderOut]  # every offline embedder a base can use
    retrieval: RetrievalOut
    bases: list[BaseStorageOut]
