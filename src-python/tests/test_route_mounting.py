"""The app's routes are the routers' own, added as declared (api/main.py add_routes): FastAPI
0.165 builds an included router's routes a second time, before READY or on the event loop at the
first request into each router, which start-up and the loop-gap budget both pay for."""

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute, APIWebSocketRoute
from starlette.routing import Route

from sage_sidecar.api import main as api_main
from sage_sidecar.api.errors import COMMON_ERRORS


def test_every_route_is_declared_not_included(app: FastAPI) -> None:
    kinds = {type(route) for route in app.router.routes}
    # Starlette's Route: FastAPI's own openapi.json. An included router would show up here as
    # FastAPI's private _IncludedRouter.
    assert kinds <= {APIRoute, APIWebSocketRoute, Route}, kinds
    paths = {route.path for route in app.router.routes if isinstance(route, APIRoute)}
    assert {"/api/health", "/api/agents", "/api/conversations"} <= paths


def test_every_route_documents_the_common_errors(app: FastAPI) -> None:
    for route in app.router.routes:
        if isinstance(route, APIRoute):
            assert COMMON_ERRORS.keys() <= route.responses.keys(), route.path


def test_a_router_without_the_common_errors_stops_the_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    forgetful = APIRouter(prefix="/api/forgetful")
    forgetful.add_api_route("/x", lambda: None)
    monkeypatch.setattr(api_main, "ROUTERS", (forgetful,))
    with pytest.raises(RuntimeError, match="/api/forgetful/x"):
        api_main.add_routes(FastAPI())
