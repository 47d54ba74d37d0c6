"""Settings → Knowledge: chunking defaults for new bases, and what the knowledge parts use."""

from fastapi import APIRouter

from sage_sidecar.api.deps import SessionDep
from sage_sidecar.api.errors import COMMON_ERRORS
from sage_sidecar.api.routes.knowledge import KnowledgeDep
from sage_sidecar.schemas.knowledge_settings import ChunkingDefaults, KnowledgeSettingsOut
from sage_sidecar.services import knowledge_settings as service

router = APIRouter(prefix="/api/knowledge/settings", tags=["knowledge"], responses=COMMON_ERRORS)


@router.get("", response_model=KnowledgeSettingsOut)
async def get_settings(session: SessionDep, knowledge: KnowledgeDep) -> KnowledgeSettingsOut:
    return await service.knowledge_settings(session, knowledge)


@router.put("/defaults", response_model=ChunkingDefaults)
async def set_defaults(data: ChunkingDefaults, session: SessionDep) -> ChunkingDefaults:
    """The chunking a new knowledge base gets when its creation leaves it out."""
    return await service.set_chunking_defaults(session, data)
