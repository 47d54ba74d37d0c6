"""Request guards: loopback Host check (DNS-rebinding defence) and the per-launch API key.

Both are plain ASGI middleware so they cover every HTTP route, including the OpenAPI schema,
without each router opting in. WebSockets bypass HTTP auth by design (a browser cannot set headers
on them): `authenticate_websocket` handles them with a first-message handshake.
"""

import asyncio
import hmac
import json
import logging

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from sage_sidecar.schemas.protocol.base import dump
from sage_sidecar.schemas.protocol.chat import AuthOk
from sage_sidecar.schemas.protocol.client import AuthFrame

log = logging.getLogger(__name__)

LOOPBACK_HOSTS = ("127.0.0.1", "localhost")
# Application close codes (4000-4999 are free for apps): the UI tells them apart from drops.
WS_CLOSE_UNAUTHORIZED = 4401
WS_CLOSE_FORBIDDEN_ORIGIN = 4403
WS_AUTH_TIMEOUT_SECONDS = 5.0


def keys_match(expected: str, presented: str | None) -> bool:
    """Constant-time comparison, so response timing does not leak how much of a key matched."""
    if presented is None:
        return False
    return hmac.compare_digest(expected.encode(), presented.encode())


def bearer_token(headers: Headers) -> str | None:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return token if scheme.lower() == "bearer" and token else None


async def _send_json(send: Send, status: int, detail: str) -> None:
    # The same shape as every other error body (api/errors.py).
    body = json.dumps({"detail": detail, "code": f"http.{status}", "params": {}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class LoopbackHostMiddleware:
    """Refuse any request whose Host is not 127.0.0.1:PORT or localhost:PORT.

    A web page on another origin can resolve its own domain to 127.0.0.1 (DNS rebinding); its
    requests then carry that domain as Host, which this refuses.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            host = Headers(scope=scope).get("host", "")
            server = scope.get("server")
            port = server[1] if server else None
            allowed = {f"{name}:{port}" for name in LOOPBACK_HOSTS}
            if host not in allowed:
                log.warning("refused request with foreign Host header %r", host[:100])
                if scope["type"] == "http":
                    await _send_json(send, 400, "Invalid Host header")
                else:
                    await send({"type": "websocket.close", "code": 1008})
                return
        await self.app(scope, receive, send)


class ApiKeyMiddleware:
    """Every HTTP request must carry `Authorization: Bearer <key>`."""

    def __init__(self, app: ASGIApp, api_key: str) -> None:
        self.app = app
        self._api_key = api_key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if not keys_match(self._api_key, bearer_token(Headers(scope=scope))):
                await _send_json(send, 401, "Missing or invalid API key")
                return
        await self.app(scope, receive, send)


async def authenticate_websocket(
    websocket: WebSocket, api_key: str, allowed_origins: list[str]
) -> bool:
    """Accept the socket only for an allowed Origin, then require `{"type":"auth","apiKey":...}`
    as the first frame. Returns False (socket closed) when the client fails either check.

    The key travels inside the connection, never in the URL, so it cannot end up in access logs.
    """
    origin = websocket.headers.get("origin")
    if origin is not None and origin not in allowed_origins:
        await websocket.close(code=WS_CLOSE_FORBIDDEN_ORIGIN)
        return False
    await websocket.accept()
    try:
        async with asyncio.timeout(WS_AUTH_TIMEOUT_SECONDS):
            presented: str | None = AuthFrame.model_validate(await websocket.receive_json()).api_key
    except (TimeoutError, ValueError, KeyError, WebSocketDisconnect):  # ValidationError is one
        presented = None
    if presented is None or not keys_match(api_key, presented):
        await _close_quietly(websocket, WS_CLOSE_UNAUTHORIZED, "unauthorized")
        return False
    await websocket.send_json(dump(AuthOk()))
    return True


async def _close_quietly(websocket: WebSocket, code: int, reason: str) -> None:
    try:
        await websocket.close(code=code, reason=reason)
    except RuntimeError:
        pass  # the client already went away
