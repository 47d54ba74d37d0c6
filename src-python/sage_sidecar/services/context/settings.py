"""The user's setting for the context window of a model neither its provider nor Sage's table
knows (Settings → Chat), kept in app_meta; unset, the sidecar's `SAGE_CHAT_CONTEXT_TOKENS`."""

from sqlalchemy.ext.asyncio import AsyncSession

from sage_sidecar.services import app_meta
from sage_sidecar.storage.models import AppMeta

KEY = "context.default_tokens"


async def default_tokens(session: AsyncSession, fallback: int) -> int:
    row = await session.get(AppMeta, KEY)
    try:
        return int(row.value) if row else fallback
    except ValueError:
        return fallback


async def set_default_tokens(session: AsyncSession, tokens: int) -> None:
    await app_meta.set_value(session, KEY, str(tokens))
    await session.commit()
