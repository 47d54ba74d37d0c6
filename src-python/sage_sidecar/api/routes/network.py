from fastapi import APIRouter

from sage_sidecar.api.deps import SessionDep
from sage_sidecar.api.errors import COMMON_ERRORS, error_responses
from sage_sidecar.schemas.network import (
    NetworkCheck,
    NetworkCheckResult,
    NetworkSettings,
    NetworkSettingsOut,
)
from sage_sidecar.services import network as service

router = APIRouter(prefix="/api/network", tags=["network"], responses=COMMON_ERRORS)


@router.get("", response_model=NetworkSettingsOut)
async def get_settings(session: SessionDep) -> NetworkSettingsOut:
    return service.describe(await service.load(session))


@router.put("", response_model=NetworkSettingsOut, responses=error_responses(422))
async def save_settings(data: NetworkSettings, session: SessionDep) -> NetworkSettingsOut:
    """Saved and in force for the next request (providers, fetch_url, MCP over HTTP)."""
    return await service.save(session, data)


@router.post("/check", response_model=NetworkCheckResult, responses=error_responses(422, 502))
async def check(data: NetworkCheck) -> NetworkCheckResult:
    """One GET of `url` with the current settings; a failure says whose it is (the proxy's
    `network.proxy_unreachable`, the certificate's `network.tls_untrusted`, or the server's)."""
    return await service.check(data.url)
