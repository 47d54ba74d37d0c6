"""Facts and small settings about this data dir, kept in the `app_meta` key-value table."""

from sqlalchemy.ext.asyncio import AsyncSession

from sage_sidecar.storage.models import AppMeta, utcnow


async def set_value(session: AsyncSession, key: str, value: str) -> None:
    """Insert or update one key; the caller commits."""
    row = await session.get(AppMeta, key)
    if row is None:
        session.add(AppMeta(key=key, value=value))
    else:
        row.value = value


async def record_start(session: AsyncSession, version: str) -> None:
    now = utcnow().isoformat()
    if await session.get(AppMeta, "first_started_at") is None:
        session.add(AppMeta(key="first_started_at", value=now))
    await set_value(session, "last_started_at", now)
    await set_value(session, "last_version", version)
    await session.commit()


async def retention_days(session: AsyncSession, key: str, default: int) -> int:
    """A retention window in days (at least 1); `default` when unset or unreadable."""
    row = await session.get(AppMeta, key)
    try:
        return max(1, int(row.value)) if row else default
    except ValueError:
        return default


async def set_retention_days(session: AsyncSession, key: str, days: int) -> None:
    await set_value(session, key, str(days))
    await session.commit()
