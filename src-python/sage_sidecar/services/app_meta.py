"""Facts about this data dir, kept in the `app_meta` table."""

from sqlalchemy.ext.asyncio import AsyncSession

from sage_sidecar.storage.models import AppMeta, utcnow


async def record_start(session: AsyncSession, version: str) -> None:
    now = utcnow().isoformat()
    if await session.get(AppMeta, "first_started_at") is None:
        session.add(AppMeta(key="first_started_at", value=now))
    for key, value in (("last_started_at", now), ("last_version", version)):
        row = await session.get(AppMeta, key)
        if row is None:
            session.add(AppMeta(key=key, value=value))
        else:
            row.value = value
    await session.commit()
