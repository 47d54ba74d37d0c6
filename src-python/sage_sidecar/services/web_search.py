"""Settings → Web search: which search API the `web_search` tool uses (tools/web_search.py),
kept in app_meta (`web_search.settings`, JSON) with the API key sealed like provider keys
(storage/secrets.py: encrypted when the OS keychain has Sage's key) and never returned."""

import json
import logging
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from sage_sidecar.core.errors import InvalidError, UpstreamError
from sage_sidecar.schemas.web_search import (
    WebSearchHit,
    WebSearchSettingsIn,
    WebSearchSettingsOut,
    WebSearchTestResult,
)
from sage_sidecar.services import app_meta
from sage_sidecar.storage import secrets
from sage_sidecar.storage.models import AppMeta
from sage_sidecar.tools import web_search
from sage_sidecar.tools.base import ToolError

log = logging.getLogger(__name__)

KEY = "web_search.settings"
KEY_PURPOSE = "app_meta:web_search.api_key"  # the sealed key's associated data


async def _stored(session: AsyncSession) -> dict[str, Any]:
    row = await session.get(AppMeta, KEY)
    if row is None:
        return {}
    try:
        data = json.loads(row.value)
    except ValueError:
        log.warning("web search: the saved settings are unreadable; web search is off")
        return {}
    if not isinstance(data, dict):
        return {}
    sealed = data.get("api_key")
    if isinstance(sealed, str) and sealed.startswith(secrets.PREFIX):
        # The key may still be loading at start (only provider and MCP secrets make the start
        # wait for it): opening before it is there would read as a lost key.
        await secrets.BOX.ready()
    return data


def _config(stored: dict[str, Any]) -> web_search.SearchConfig:
    sealed = stored.get("api_key")
    key = secrets.BOX.open(sealed, KEY_PURPOSE) if isinstance(sealed, str) and sealed else None
    settings = WebSearchSettingsIn.model_validate(
        {k: v for k, v in stored.items() if k != "api_key"}
    )
    return web_search.SearchConfig(
        backend=settings.backend, searxng_url=settings.searxng_url, api_key=key,
        api_url=settings.api_url, max_results=settings.max_results,
    )  # fmt: skip


def describe(config: web_search.SearchConfig) -> WebSearchSettingsOut:
    endpoint = config.endpoint()
    return WebSearchSettingsOut(
        backend=config.backend, searxng_url=config.searxng_url, has_api_key=bool(config.api_key),
        api_url=config.api_url, max_results=config.max_results,
        endpoint_host=urlsplit(endpoint).hostname if endpoint else None,
    )  # fmt: skip


async def activate_saved(session: AsyncSession) -> None:
    try:
        web_search.configure(_config(await _stored(session)))
    except ValueError:
        log.warning("web search: the saved settings are invalid; web search is off")
        web_search.configure(web_search.SearchConfig())


async def get(session: AsyncSession) -> WebSearchSettingsOut:
    return describe(web_search.current())


async def save(session: AsyncSession, data: WebSearchSettingsIn) -> WebSearchSettingsOut:
    stored = await _stored(session)
    if data.backend == "searxng" and not data.searxng_url:
        raise InvalidError("SearXNG needs its instance's address", code="web_search.needs_url")
    sealed = stored.get("api_key")
    if data.api_key is not None:
        value = data.api_key.get_secret_value().strip()
        if value:
            await secrets.BOX.ready()  # sealed with the keychain's key when there is one
        sealed = secrets.BOX.seal(value, KEY_PURPOSE) if value else None
    if data.backend in ("brave", "tavily") and not sealed:
        raise InvalidError(f"{data.backend.title()} needs an API key",
                           code="web_search.needs_key", backend=data.backend)  # fmt: skip
    kept = {**data.model_dump(exclude={"api_key"}), "api_key": sealed}
    await app_meta.set_value(session, KEY, json.dumps(kept))
    await session.commit()
    config = _config(kept)
    web_search.configure(config)
    return describe(config)


async def test(query: str) -> WebSearchTestResult:
    """One search with the saved settings, for Settings → Web search's Test button."""
    config = web_search.current()
    try:
        found = await web_search.search(query, config.max_results, config)
    except ToolError as error:
        raise UpstreamError(str(error), code="web_search.failed", reason=str(error)) from error
    return WebSearchTestResult(
        results=[WebSearchHit(title=r.title, url=r.url, snippet=r.snippet) for r in found]
    )
