"""Domain errors. Routers translate them to HTTP (see app.py); services never import FastAPI."""

from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")


class DomainError(Exception):
    status_code = 400


class NotFoundError(DomainError):
    status_code = 404

    def __init__(self, what: str, item_id: str) -> None:
        super().__init__(f"{what} {item_id!r} not found")


class ConflictError(DomainError):
    status_code = 409


class InvalidError(DomainError):
    status_code = 422


async def get_or_raise(session: AsyncSession, model: type[T], item_id: Any, what: str) -> T:
    """The row with this primary key, or a NotFoundError naming what was looked for."""
    row = await session.get(model, item_id)
    if row is None:
        raise NotFoundError(what, str(item_id))
    return row
