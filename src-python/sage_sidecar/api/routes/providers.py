from fastapi import APIRouter, status

from sage_sidecar.api.deps import SessionDep, StateDep
from sage_sidecar.api.errors import COMMON_ERRORS, error_responses
from sage_sidecar.schemas.providers import (
    ConnectionVerdict,
    DetectedServer,
    ProviderCreate,
    ProviderOut,
    ProviderUpdate,
)
from sage_sidecar.services import providers as service

router = APIRouter(prefix="/api/providers", tags=["providers"], responses=COMMON_ERRORS)


@router.get("", response_model=list[ProviderOut])
async def list_providers(session: SessionDep) -> list[ProviderOut]:
    return [service.to_out(p) for p in await service.list_providers(session)]


@router.post("", response_model=ProviderOut, status_code=status.HTTP_201_CREATED)
async def create_provider(data: ProviderCreate, session: SessionDep) -> ProviderOut:
    return service.to_out(await service.create_provider(session, data))


@router.get("/detect", response_model=list[DetectedServer])
async def detect_local_servers(state: StateDep) -> list[DetectedServer]:
    """Ollama and LM Studio on their default loopback ports."""
    return await service.detect_local_servers(state.http)


@router.get("/{provider_id}", response_model=ProviderOut, responses=error_responses(404))
async def get_provider(provider_id: str, session: SessionDep) -> ProviderOut:
    return service.to_out(await service.get_provider(session, provider_id))


@router.patch("/{provider_id}", response_model=ProviderOut, responses=error_responses(404))
async def update_provider(
    provider_id: str, data: ProviderUpdate, session: SessionDep
) -> ProviderOut:
    return service.to_out(await service.update_provider(session, provider_id, data))


@router.delete(
    "/{provider_id}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(404)
)
async def delete_provider(provider_id: str, session: SessionDep) -> None:
    await service.delete_provider(session, provider_id)


@router.post(
    "/{provider_id}/test", response_model=ConnectionVerdict, responses=error_responses(404)
)
async def test_connection(
    provider_id: str, session: SessionDep, state: StateDep
) -> ConnectionVerdict:
    return await service.test_connection(
        await service.get_provider(session, provider_id), state.http
    )


@router.get("/{provider_id}/models", response_model=list[str], responses=error_responses(404, 502))
async def list_models(provider_id: str, session: SessionDep, state: StateDep) -> list[str]:
    """The provider's own model list; its errors come back as HTTP 502 with a readable reason."""
    provider = await service.get_provider(session, provider_id)
    return await service.client_for(provider, state.http).list_models()
