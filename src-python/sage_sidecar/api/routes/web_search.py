from fastapi import APIRouter

from sage_sidecar.api.deps import SessionDep
from sage_sidecar.api.errors import COMMON_ERRORS, error_responses
from sage_sidecar.schemas.web_search import (
    WebSearchSettingsIn,
    WebSearchSettingsOut,
    WebSearchTest,
    WebSearchTestResult,
)
from sage_sidecar.services import web_search as service

router = APIRouter(prefix="/api/web-search", tags=["web search"], responses=COMMON_ERRORS)


@router.get("", response_model=WebSearchSettingsOut)
async def get_settings(session: SessionDep) -> WebSearchSettingsOut:
    return await service.get(session)


@router.put("", response_model=WebSearchSettingsOut, responses=error_responses(422))
async def save_settings(data: WebSearchSettingsIn, session: SessionDep) -> WebSearchSettingsOut:
    """The `web_search` tool's API; the key is write-only (omitted: kept, empty: cleared)."""
    return await service.save(session, data)


@router.post("/test", response_model=WebSearchTestResult, responses=error_responses(422, 502))
async def test_search(data: WebSearchTest) -> WebSearchTestResult:
    """One search with the saved settings; a failure is `web_search.failed` with the reason."""
    return await service.test(data.query)
