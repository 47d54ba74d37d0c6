from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, status

from sage_sidecar.api.deps import SessionDep, StateDep
from sage_sidecar.api.errors import COMMON_ERRORS, error_responses
from sage_sidecar.api.openapi import MULTIPART_FILES
from sage_sidecar.knowledge.intake import too_large
from sage_sidecar.knowledge.search import Hit
from sage_sidecar.schemas.knowledge import (
    AddPaths,
    ChunkOut,
    KnowledgeBaseCreate,
    KnowledgeBaseOut,
    KnowledgeBaseUpdate,
    KnowledgeFileOut,
    SearchHitOut,
    SearchOut,
    SearchRequest,
)
from sage_sidecar.services import knowledge as service
from sage_sidecar.services import knowledge_bases as bases
from sage_sidecar.services import knowledge_files as files
from sage_sidecar.services import knowledge_settings
from sage_sidecar.services.knowledge import Knowledge
from sage_sidecar.storage import knowledge as store

router = APIRouter(prefix="/api/knowledge", tags=["knowledge"], responses=COMMON_ERRORS)
# A chunk's id is an SQLite rowid: a bigger number cannot even be bound to the query.
ChunkId = Annotated[int, Path(ge=1, le=2**63 - 1)]
MULTIPART_OVERHEAD = 64 * 1024  # boundaries and part headers on top of the files themselves


def get_knowledge(state: StateDep) -> Knowledge:
    return state.knowledge


KnowledgeDep = Annotated[Knowledge, Depends(get_knowledge)]


def _chunk(row: store.ChunkRow) -> dict[str, Any]:
    return {"chunk_id": row.id, "kb_id": row.kb_id, "file_id": row.file_id,
            "file_name": row.file_name, "ordinal": row.ordinal, "text": row.text,
            "heading": row.heading, "page": row.page, "char_start": row.char_start,
            "char_end": row.char_end}  # fmt: skip


def _hit(hit: Hit) -> SearchHitOut:
    return SearchHitOut(**_chunk(hit.chunk), score=hit.score, vector_rank=hit.vector_rank,
                        vector_score=hit.vector_score, bm25_rank=hit.bm25_rank,
                        bm25_score=hit.bm25_score)  # fmt: skip


@router.get("/bases", response_model=list[KnowledgeBaseOut])
async def list_bases(session: SessionDep) -> list[KnowledgeBaseOut]:
    return [KnowledgeBaseOut.model_validate(kb) for kb in await bases.list_bases(session)]


@router.post(
    "/bases",
    response_model=KnowledgeBaseOut,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(404, 502),
)
async def create_base(
    data: KnowledgeBaseCreate, session: SessionDep, knowledge: KnowledgeDep
) -> KnowledgeBaseOut:
    data = await knowledge_settings.with_defaults(session, data)
    return KnowledgeBaseOut.model_validate(await bases.create_base(session, knowledge, data))


@router.get("/bases/{kb_id}", response_model=KnowledgeBaseOut, responses=error_responses(404))
async def get_base(kb_id: str, session: SessionDep) -> KnowledgeBaseOut:
    return KnowledgeBaseOut.model_validate(await bases.get_base(session, kb_id))


@router.patch(
    "/bases/{kb_id}", response_model=KnowledgeBaseOut, responses=error_responses(404, 502)
)
async def update_base(
    kb_id: str, data: KnowledgeBaseUpdate, session: SessionDep, knowledge: KnowledgeDep
) -> KnowledgeBaseOut:
    kb = await bases.update_base(session, knowledge, kb_id, data)
    return KnowledgeBaseOut.model_validate(kb)


@router.delete(
    "/bases/{kb_id}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(404)
)
async def delete_base(kb_id: str, session: SessionDep, knowledge: KnowledgeDep) -> None:
    await bases.delete_base(session, knowledge, kb_id)


@router.post(
    "/bases/{kb_id}/reindex", response_model=KnowledgeBaseOut, responses=error_responses(404)
)
async def reindex_base(
    kb_id: str, session: SessionDep, knowledge: KnowledgeDep
) -> KnowledgeBaseOut:
    """Embed every file of the base again; progress arrives as `knowledge.file` events."""
    return KnowledgeBaseOut.model_validate(await bases.reindex_base(session, knowledge, kb_id))


@router.get(
    "/bases/{kb_id}/files", response_model=list[KnowledgeFileOut], responses=error_responses(404)
)
async def list_files(kb_id: str, session: SessionDep) -> list[KnowledgeFileOut]:
    return [KnowledgeFileOut.model_validate(f) for f in await files.list_files(session, kb_id)]


@router.post(
    "/bases/{kb_id}/files",
    response_model=list[KnowledgeFileOut],
    status_code=status.HTTP_201_CREATED,
    openapi_extra=MULTIPART_FILES,
    responses=error_responses(404, 413, 415, 422),
)
async def upload_files(
    kb_id: str, request: Request, session: SessionDep, knowledge: KnowledgeDep
) -> list[KnowledgeFileOut]:
    """Multipart upload of one or more files (any field name), streamed to disk. Too large: 413;
    unsupported type: 415; the whole request is refused and nothing of it is kept."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > knowledge.max_file_bytes + MULTIPART_OVERHEAD:
        raise too_large("the upload", knowledge.max_file_bytes)  # before reading any of it
    return await files.upload_files(
        session, knowledge, kb_id, request.headers.get("content-type", ""), request.stream()
    )


@router.post(
    "/bases/{kb_id}/files/paths",
    response_model=list[KnowledgeFileOut],
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(404, 413, 415),
)
async def add_paths(
    kb_id: str, data: AddPaths, session: SessionDep, knowledge: KnowledgeDep
) -> list[KnowledgeFileOut]:
    """Files on this computer, by absolute path (the desktop app's file dialog); copied in."""
    return await files.add_paths(session, knowledge, kb_id, data.paths)


@router.get(
    "/bases/{kb_id}/files/{file_id}",
    response_model=KnowledgeFileOut,
    responses=error_responses(404),
)
async def get_file(kb_id: str, file_id: str, session: SessionDep) -> KnowledgeFileOut:
    return KnowledgeFileOut.model_validate(await files.get_file(session, kb_id, file_id))


@router.delete(
    "/bases/{kb_id}/files/{file_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(404),
)
async def delete_file(
    kb_id: str, file_id: str, session: SessionDep, knowledge: KnowledgeDep
) -> None:
    await files.delete_file(session, knowledge, kb_id, file_id)


@router.post("/search", response_model=SearchOut, responses=error_responses(404, 502))
async def search(data: SearchRequest, session: SessionDep, knowledge: KnowledgeDep) -> SearchOut:
    hits, took_ms = await service.search_bases(session, knowledge, data)
    return SearchOut(hits=[_hit(h) for h in hits], took_ms=took_ms)


@router.get("/chunks/{chunk_id}", response_model=ChunkOut, responses=error_responses(404))
async def get_chunk(chunk_id: ChunkId, session: SessionDep) -> ChunkOut:
    """One passage with its source: what a citation marker links to."""
    return ChunkOut(**_chunk(await service.get_chunk(session, chunk_id)))
