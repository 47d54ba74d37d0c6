"""Every route refuses requests without the per-launch key; the Host and Origin checks hold."""

import re
import tomllib
from pathlib import Path

import pytest
from fastapi.routing import APIWebSocketRoute
from fastapi.testclient import TestClient
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocketDisconnect

from sage_sidecar.core.security import WS_CLOSE_FORBIDDEN_ORIGIN, WS_CLOSE_UNAUTHORIZED
from sage_sidecar.storage.migrate import head_revision

from conftest import WS_BASE


def cargo_version() -> str:
    """The version's one source (scripts/version.py): the workspace Cargo.toml."""
    cargo = Path(__file__).resolve().parents[2] / "Cargo.toml"
    return tomllib.loads(cargo.read_text())["workspace"]["package"]["version"]


def concrete_path(path: str) -> str:
    """Fill path parameters with a placeholder: auth must refuse before routing matters."""
    return re.sub(r"\{[^}]+\}", "1", path)


def all_routes(routes) -> list:
    """Flatten included routers. Recent FastAPI keeps them as lazy `_IncludedRouter` nodes; the
    enumeration test below fails loudly if that shape changes."""
    flat = []
    for route in routes:
        nested = getattr(route, "original_router", None)
        flat.extend(all_routes(nested.routes) if nested is not None else [route])
    return flat


def http_endpoints(app) -> list[tuple[str, str]]:
    endpoints = []
    for route in all_routes(app.routes):
        methods = getattr(route, "methods", None)
        if methods:
            for method in sorted(methods - {"HEAD"}):
                endpoints.append((method, concrete_path(route.path)))
    return endpoints


def websocket_paths(app) -> list[str]:
    kinds = (WebSocketRoute, APIWebSocketRoute)
    return [concrete_path(r.path) for r in all_routes(app.routes) if isinstance(r, kinds)]


def test_route_enumeration_sees_the_known_routes(app):
    endpoints = http_endpoints(app)
    assert ("GET", "/api/health") in endpoints
    assert ("GET", "/api/openapi.json") in endpoints
    assert "/ws/events" in websocket_paths(app)


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer " + "0" * 64}, {"Authorization": "Basic abc"}],
    ids=["no-key", "wrong-key", "wrong-scheme"],
)
def test_every_http_route_refuses_without_the_key(client: TestClient, app, headers):
    for method, path in http_endpoints(app):
        response = client.request(method, path, headers=headers)
        assert response.status_code == 401, (method, path)
        assert response.json() == {
            "detail": "Missing or invalid API key",
            "code": "http.401",
            "params": {},
        }


def test_key_opens_health(client: TestClient, auth):
    response = client.get("/api/health", headers=auth)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["version"] == cargo_version()
    assert body["db"] == {"ok": True, "revision": head_revision()}


def test_openapi_schema_is_served_with_the_key(client: TestClient, auth):
    schema = client.get("/api/openapi.json", headers=auth).json()
    assert "/api/health" in schema["paths"]


@pytest.mark.parametrize("host", ["evil.example:8765", "127.0.0.1:9999", "localhost.evil:8765"])
def test_foreign_host_header_is_refused_even_with_the_key(client: TestClient, auth, host):
    response = client.get("/api/health", headers={**auth, "Host": host})
    assert response.status_code == 400
    assert response.json() == {"detail": "Invalid Host header", "code": "http.400", "params": {}}


def test_localhost_host_header_is_accepted(client: TestClient, auth):
    response = client.get("/api/health", headers={**auth, "Host": "localhost:8765"})
    assert response.status_code == 200


def test_cors_preflight_only_for_webview_origins(client: TestClient):
    preflight = {
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization",
    }
    ok = client.options("/api/health", headers={**preflight, "Origin": "tauri://localhost"})
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == "tauri://localhost"
    bad = client.options("/api/health", headers={**preflight, "Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in bad.headers


def test_every_websocket_refuses_without_auth_frame(client: TestClient, app):
    for path in websocket_paths(app):
        with client.websocket_connect(WS_BASE + path) as ws:
            ws.send_json({"type": "subscribe"})
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_json()
        assert closed.value.code == WS_CLOSE_UNAUTHORIZED, path


def test_every_websocket_refuses_a_wrong_key(client: TestClient, app):
    for path in websocket_paths(app):
        with client.websocket_connect(WS_BASE + path) as ws:
            ws.send_json({"type": "auth", "apiKey": "f" * 64})
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_json()
        assert closed.value.code == WS_CLOSE_UNAUTHORIZED, path


def test_websocket_refuses_foreign_origin(client: TestClient, api_key):
    with pytest.raises(WebSocketDisconnect) as closed:
        with client.websocket_connect(
            WS_BASE + "/ws/events", headers={"Origin": "https://evil.example"}
        ):
            pass
    assert closed.value.code == WS_CLOSE_FORBIDDEN_ORIGIN


def test_websocket_refuses_foreign_host(client: TestClient):
    with pytest.raises(WebSocketDisconnect):
        with client.websocket_connect(
            WS_BASE + "/ws/events", headers={"Host": "evil.example:8765"}
        ):
            pass
