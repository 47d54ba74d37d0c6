from fastapi import APIRouter, status

from sage_sidecar.api.deps import SessionDep
from sage_sidecar.api.errors import COMMON_ERRORS, error_responses
from sage_sidecar.schemas.prompts import (
    PromptCreate,
    PromptExport,
    PromptImportResult,
    PromptOut,
    PromptUpdate,
)
from sage_sidecar.services import prompts as service

router = APIRouter(prefix="/api/prompts", tags=["prompts"], responses=COMMON_ERRORS)


@router.get("", response_model=list[PromptOut])
async def list_prompts(session: SessionDep) -> list[PromptOut]:
    return [service.to_out(p) for p in await service.list_prompts(session)]


@router.post(
    "",
    response_model=PromptOut,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(422),
)
async def create_prompt(data: PromptCreate, session: SessionDep) -> PromptOut:
    return service.to_out(await service.create_prompt(session, data))


@router.get("/export", response_model=PromptExport)
async def export_prompts(session: SessionDep) -> PromptExport:
    """The whole library as the file Import reads."""
    return await service.export_prompts(session)


@router.post("/import", response_model=PromptImportResult, responses=error_responses(422))
async def import_prompts(data: PromptExport, session: SessionDep) -> PromptImportResult:
    return await service.import_prompts(session, data)


@router.get("/{prompt_id}", response_model=PromptOut, responses=error_responses(404))
async def get_prompt(prompt_id: str, session: SessionDep) -> PromptOut:
    return service.to_out(await service.get_prompt(session, prompt_id))


@router.patch("/{prompt_id}", response_model=PromptOut, responses=error_responses(404, 422))
async def update_prompt(prompt_id: str, data: PromptUpdate, session: SessionDep) -> PromptOut:
    return service.to_out(await service.update_prompt(session, prompt_id, data))


@router.delete(
    "/{prompt_id}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(404)
)
async def delete_prompt(prompt_id: str, session: SessionDep) -> None:
    await service.delete_prompt(session, prompt_id)
