"""Shared FastAPI dependencies. The app's long-lived objects live on `app.state.sage` (app.py)."""

from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from sage_sidecar.app_state import AppState


def get_state(connection: HTTPConnection) -> AppState:
    return connection.app.state.sage


StateDep = Annotated[AppState, Depends(get_state)]
