"""Row look-ups every service needs."""

from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from sage_sidecar.core.errors import NotFoundError

T = TypeVar("T")


async def get_or_raise(session: AsyncSession, model: type[T], item_id: Any, what: str) -> T:
    """The row with this primary key, or a NotFoundError naming what was looked for."""
    row = await session.get(model, item_id)
    if row is None:
        raise NotFoundError(what, str(item_id))
    return row
