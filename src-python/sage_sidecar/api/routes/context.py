"""Settings of the context window (services/context): the window of an unknown model."""

from fastapi import APIRouter

from sage_sidecar.api.deps import SessionDep, StateDep
from sage_sidecar.api.errors import COMMON_ERRORS
from sage_sidecar.schemas.model_params import ContextSettings
from sage_sidecar.services.context import settings as context_settings

router = APIRouter(prefix="/api/context", tags=["context"], responses=COMMON_ERRORS)


@router.get("/settings", response_model=ContextSettings)
async def get_context_settings(session: SessionDep, state: StateDep) -> ContextSettings:
    fallback = state.settings.chat_context_tokens
    return ContextSettings(
        default_context_tokens=await context_settings.default_tokens(session, fallback)
    )


@router.put("/settings", response_model=ContextSettings)
async def put_context_settings(data: ContextSettings, session: SessionDep) -> ContextSettings:
    """Applies from the next reply on."""
    await context_settings.set_default_tokens(session, data.default_context_tokens)
    return data
