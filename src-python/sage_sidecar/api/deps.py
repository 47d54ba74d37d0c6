"""Shared FastAPI dependencies. The app's long-lived objects live on `app.state.sage` (app.py)."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, WebSocket
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection

from sage_sidecar.app_state import AppState
from sage_sidecar.core.security import authenticate_websocket


def get_state(connection: HTTPConnection) -> AppState:
    state: AppState = connection.app.state.sage
    return state


StateDep = Annotated[AppState, Depends(get_state)]


async def get_session(state: StateDep) -> AsyncIterator[AsyncSession]:
    async with state.db.session() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


async def websocket_authenticated(websocket: WebSocket, state: AppState) -> bool:
    """Every WebSocket route starts here: Origin check, then the key in the first frame."""
    settings = state.settings
    return await authenticate_websocket(
        websocket, settings.api_key.get_secret_value(), settings.allowed_origins
    )
