"""Providers: CRUD, connection tests, model lists, and detection of local model servers."""

import asyncio

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from sage_sidecar.core import redaction
from sage_sidecar.core.urls import same_origin
from sage_sidecar.providers.anthropic import AnthropicClient
from sage_sidecar.providers.base import ProviderError
from sage_sidecar.providers.openai_compat import OpenAICompatClient
from sage_sidecar.providers.transport import HttpProviderClient
from sage_sidecar.schemas.providers import (
    DEFAULT_BASE_URLS,
    ConnectionVerdict,
    DetectedServer,
    ProviderCreate,
    ProviderOut,
    ProviderUpdate,
)
from sage_sidecar.storage import secrets
from sage_sidecar.storage.models import Provider
from sage_sidecar.storage.rows import get_or_raise

LOCAL_KINDS = ("ollama", "lmstudio")
DETECT_TIMEOUT_S = 0.5


def to_out(provider: Provider) -> ProviderOut:
    return ProviderOut.model_validate(
        {**{c: getattr(provider, c) for c in ProviderOut.model_fields if c != "has_api_key"},
         "has_api_key": bool(provider.api_key)}
    )  # fmt: skip


def client_for(provider: Provider, http: httpx.AsyncClient) -> HttpProviderClient:
    # Credentials in the base URL (`?api_key=`, `user:pass@`) are never logged or shown in errors.
    redaction.KNOWN.add(*redaction.secrets_in_url(provider.base_url))
    if provider.kind == "anthropic":
        return AnthropicClient(provider.base_url, provider.api_key, http)
    return OpenAICompatClient(provider.base_url, provider.api_key, http)


async def list_providers(session: AsyncSession) -> list[Provider]:
    return list((await session.scalars(select(Provider).order_by(Provider.created_at))).all())


async def get_provider(session: AsyncSession, provider_id: str) -> Provider:
    return await get_or_raise(session, Provider, provider_id, "provider")


async def create_provider(session: AsyncSession, data: ProviderCreate) -> Provider:
    if data.api_key:
        await secrets.BOX.ready()  # the key is sealed with the keychain's key when there is one
    provider = Provider(
        name=data.name,
        kind=data.kind,
        base_url=(data.base_url or DEFAULT_BASE_URLS[data.kind]).rstrip("/"),
        api_key=data.api_key.get_secret_value() if data.api_key else None,
        default_model=data.default_model,
        enabled=data.enabled,
    )
    session.add(provider)
    await session.commit()
    return provider


async def update_provider(
    session: AsyncSession, provider_id: str, data: ProviderUpdate
) -> Provider:
    provider = await get_provider(session, provider_id)
    changes = data.model_dump(exclude_unset=True)
    if "api_key" in changes:
        secret = data.api_key.get_secret_value() if data.api_key else ""
        if secret:
            await secrets.BOX.ready()
        provider.api_key = secret or None
        del changes["api_key"]
    elif changes.get("base_url") and not same_origin(provider.base_url, changes["base_url"]):
        # A key is for the host it was given for: a new host gets it only when sent again.
        provider.api_key = None
    if changes.get("base_url"):
        changes["base_url"] = changes["base_url"].rstrip("/")
    for field, value in changes.items():
        if value is not None:
            setattr(provider, field, value)
    await session.commit()
    return provider


async def delete_provider(session: AsyncSession, provider_id: str) -> None:
    await session.delete(await get_provider(session, provider_id))
    await session.commit()


_VERDICTS = {"auth": "bad_key", "unreachable": "unreachable", "timeout": "unreachable",
             "bad_url": "wrong_url", "bad_response": "wrong_url"}  # fmt: skip


async def test_connection(provider: Provider, http: httpx.AsyncClient) -> ConnectionVerdict:
    try:
        models = await client_for(provider, http).list_models()
    except ProviderError as error:
        verdict = _VERDICTS.get(error.kind, "error")
        if isinstance(error.__cause__, httpx.ProxyError):  # the proxy failed, not the provider
            verdict = "proxy_unreachable"
        message = redaction.KNOWN.redactor().text(str(error))
        return ConnectionVerdict(ok=False, verdict=verdict, message=message)
    return ConnectionVerdict(ok=True, verdict="ok", message=f"{len(models)} models", models=models)


async def detect_local_servers(http: httpx.AsyncClient) -> list[DetectedServer]:
    """Probe Ollama and LM Studio on their default loopback ports, concurrently and briefly."""

    async def probe(kind: str) -> DetectedServer | None:
        base = DEFAULT_BASE_URLS[kind]
        try:
            response = await http.get(f"{base}/models", timeout=DETECT_TIMEOUT_S)
            models = sorted(m["id"] for m in response.json()["data"])
        except (httpx.HTTPError, ValueError, KeyError, TypeError):
            return None
        return DetectedServer(kind=kind, base_url=base, models=models)

    found = await asyncio.gather(*(probe(kind) for kind in LOCAL_KINDS))
    return [server for server in found if server is not None]


DEMO_NAME = "Demo (scripted)"
DEMO_MODEL = "scripted-1"


async def ensure_demo_provider(session: AsyncSession, base_url: str) -> Provider:
    """The scripted demo model (scripts/run.sh --demo), labelled as such. Its port changes on
    every run, so an existing entry is re-pointed rather than duplicated."""
    provider = await session.scalar(select(Provider).where(Provider.name == DEMO_NAME))
    if provider is None:
        provider = Provider(
            name=DEMO_NAME, kind="openai", default_model=DEMO_MODEL, base_url=base_url
        )
        session.add(provider)
    provider.base_url = base_url.rstrip("/")
    provider.enabled = True
    await session.commit()
    return provider
