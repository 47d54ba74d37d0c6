"""The app's routes are the routers' own, added as declared (api/main.py add_routes): FastAPI
0.165 builds an included router's routes a second time, before READY or on the event loop at the
first request into each router, which start-up and the loop-gap budget both pay for. The routers
the first screen does not use are mounted after READY (api/late_routes.py)."""

import asyncio
import http.client
import importlib
import json
import os
import re
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute, APIWebSocketRoute
from fastapi.testclient import TestClient
from starlette.routing import BaseRoute, Match, Route

from sage_sidecar.api import main as api_main
from sage_sidecar.api.errors import COMMON_ERRORS
from sage_sidecar.api.late_routes import LateRoutes, under
from sage_sidecar.app import create_app
from sage_sidecar.core.config import Settings

from conftest import TEST_ORIGIN
from sidecar_process import FROZEN, Ready, read_ready, sidecar_command, sidecar_env


def test_every_route_is_declared_not_included(app: FastAPI) -> None:
    kinds = {type(route) for route in app.router.routes}
    # Starlette's Route: FastAPI's own openapi.json. An included router would show up here as
    # FastAPI's private _IncludedRouter.
    assert kinds <= {APIRoute, APIWebSocketRoute, Route}, kinds
    paths = {route.path for route in app.router.routes if isinstance(route, APIRoute)}
    assert {"/api/health", "/api/agents", "/api/conversations", "/api/tasks"} <= paths


def test_every_route_documents_the_common_errors(app: FastAPI) -> None:
    for route in app.router.routes:
        if isinstance(route, APIRoute):
            assert COMMON_ERRORS.keys() <= route.responses.keys(), route.path


def test_a_router_without_the_common_errors_stops_the_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    forgetful = APIRouter(prefix="/api/forgetful")
    forgetful.add_api_route("/x", lambda: None)
    monkeypatch.setattr(api_main, "FIRST_SCREEN", (forgetful,))
    with pytest.raises(RuntimeError, match="/api/forgetful/x"):
        api_main.add_routes(FastAPI())


def _scopes(route: BaseRoute) -> list[dict[str, object]]:
    """A request for each of the route's methods, its path parameters filled in."""
    path = re.sub(r"\{[^}:]+(:path)?\}", "x", getattr(route, "path", ""))
    if isinstance(route, APIWebSocketRoute):
        return [{"type": "websocket", "path": path, "root_path": ""}]
    methods = getattr(route, "methods", None) or {"GET"}
    return [{"type": "http", "path": path, "root_path": "", "method": m} for m in methods]


def test_no_late_route_would_be_answered_by_a_first_screen_route(settings: Settings) -> None:
    """A request for a late route arriving before it is mounted must match nothing (so it waits
    for the mount), not a first-screen route of the same path (a 405, or the wrong handler)."""
    app = create_app(settings, routes_after_ready=True)
    first_screen = list(app.router.routes)
    late: LateRoutes = app.state.late_routes
    assert late.pending == tuple(api_main.AFTER_READY)
    late.mount_all()
    later = app.router.routes[len(first_screen) :]
    assert later and late.pending == ()
    for route in later:
        for scope in _scopes(route):
            matches = [r for r in first_screen if r.matches(scope)[0] is not Match.NONE]
            assert not matches, (scope, [getattr(r, "path", r) for r in matches])


def test_every_late_route_is_under_its_routers_prefixes() -> None:
    """What a request that comes before the mount relies on to find its router."""
    for name, prefixes in api_main.AFTER_READY.items():
        router = importlib.import_module(name).router
        for route in router.routes:
            assert under(getattr(route, "path", ""), prefixes), (name, route)


def test_a_request_before_its_router_is_mounted_is_answered(
    settings: Settings, auth: dict[str, str]
) -> None:
    app = create_app(settings, routes_after_ready=True)
    late: LateRoutes = app.state.late_routes
    with TestClient(app, base_url=TEST_ORIGIN) as client:
        assert len(late.pending) == len(api_main.AFTER_READY)  # no serve() here to mount them
        response = client.get("/api/prompts", headers=auth)
        assert response.status_code == 200, response.text
        # That request mounted its own router, and only that one.
        assert set(api_main.AFTER_READY) - set(late.pending) == {"sage_sidecar.api.routes.prompts"}
        assert client.get("/api/workspaces/nobody/trash", headers=auth).status_code == 404
        assert "sage_sidecar.api.routes.workspace" not in late.pending
        # A path no router is under mounts nothing and is a 404 with the error body.
        before = late.pending
        missing = client.get("/api/no-such-thing", headers=auth)
        assert missing.status_code == 404 and missing.json()["code"] == "http.404"
        assert late.pending == before
        late.mount_all()
        assert client.get("/api/network", headers=auth).status_code == 200
        assert client.get("/api/no-such-thing", headers=auth).status_code == 404


def test_the_schema_has_every_route_even_before_they_are_mounted(settings: Settings) -> None:
    app = create_app(settings, routes_after_ready=True)
    paths = app.openapi()["paths"]
    assert "/api/health" in paths and "/api/tasks" in paths and "/api/knowledge/bases" in paths
    assert app.state.late_routes.pending == ()


def test_the_background_mount_takes_one_router_per_turn_of_the_loop() -> None:
    app = FastAPI()
    mounted: list[APIRouter] = []
    late = LateRoutes(app, api_main.AFTER_READY, mounted.append)
    seen: list[int] = []

    async def watch() -> None:
        while late.pending:
            seen.append(len(late.pending))
            await asyncio.sleep(0)

    async def run() -> None:
        await asyncio.gather(late.mount_in_background(), watch())

    asyncio.run(asyncio.wait_for(run(), 30))
    assert len(mounted) == len(api_main.AFTER_READY) and late.pending == ()
    # The watcher ran between every two mounts: no turn of the loop imported two routers.
    assert list(dict.fromkeys(seen)) == list(range(len(api_main.AFTER_READY), 0, -1))


@contextmanager
def sidecar(tmp_path: Path, frozen: bool) -> Iterator[tuple[Ready, dict[str, str]]]:
    """The real sidecar, venv or frozen; ended by closing its stdin, killed if that fails."""
    if frozen and not FROZEN.exists():
        pytest.skip("no frozen build: run scripts/build-sidecar.sh")
    env = sidecar_env(tmp_path / "data", SAGE_PARENT_PID=str(os.getpid()))  # stdin closed: exit
    command = [str(FROZEN)] if frozen else sidecar_command()
    proc = subprocess.Popen(command, env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)  # fmt: skip
    try:
        yield read_ready(proc, timeout=60), env
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise


@pytest.mark.parametrize("frozen", [False, True], ids=["venv", "frozen"])
def test_the_sidecar_answers_a_late_route_at_once_after_ready(tmp_path: Path, frozen: bool) -> None:
    """Frozen too: PyInstaller bundles only what is imported by name in the code it reads, and the
    late routers are imported from strings (sage_sidecar.spec lists them)."""
    with sidecar(tmp_path, frozen) as (ready, env):
        conn = http.client.HTTPConnection("127.0.0.1", ready.port, timeout=30)
        headers = {"Authorization": f"Bearer {env['SAGE_API_KEY']}"}
        late = (
            "/api/skills",
            "/api/tasks",
            "/api/knowledge/bases",
            "/api/prompts",
            "/api/network",
        )
        for path, status in (*((p, 200) for p in late), ("/api/nope", 404)):
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            body = json.loads(response.read())
            assert response.status == status, (path, body)
    log = (tmp_path / "data" / "logs" / "sidecar.log").read_text()
    assert "/api/skills came before its router was mounted: mounting skills now" in log


@pytest.mark.parametrize("frozen", [False, True], ids=["venv", "frozen"])
def test_the_sidecar_mounts_the_late_routers_by_itself(tmp_path: Path, frozen: bool) -> None:
    """Every one of them: in the frozen build, one whose module PyInstaller left out would fail."""
    log = tmp_path / "data" / "logs" / "sidecar.log"
    expected = f"{len(api_main.AFTER_READY)} routers mounted after READY"
    with sidecar(tmp_path, frozen):
        deadline = time.monotonic() + 30
        while expected not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
    assert expected in log.read_text() and "cannot mount" not in log.read_text()


def test_a_router_that_cannot_be_mounted_is_logged_and_the_rest_still_are(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = FastAPI()
    mounted: list[APIRouter] = []
    modules = {"sage_sidecar.api.routes.no_such_router": ("/api/nothing",),
               "sage_sidecar.api.routes.prompts": ("/api/prompts",)}  # fmt: skip
    late = LateRoutes(app, modules, mounted.append)
    asyncio.run(asyncio.wait_for(late.mount_in_background(), 30))
    assert len(mounted) == 1 and late.pending == ("sage_sidecar.api.routes.no_such_router",)
    assert "cannot mount the router of sage_sidecar.api.routes.no_such_router" in caplog.text
