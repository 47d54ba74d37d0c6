"""Test helpers: a provider pointed at the scripted server, and keyed `/ws/chat` and
`/ws/events` clients."""

from collections import deque
from typing import Any, Self

from fastapi.testclient import TestClient

from sage_sidecar.demo.scripted import RunningScripted

from conftest import WS_BASE

TERMINAL = ("message.completed", "message.failed")


def add_scripted_provider(client: TestClient, auth: dict, scripted: RunningScripted) -> dict:
    body = {"name": "Demo (scripted)", "kind": "openai", "base_url": scripted.base_url,
            "api_key": "k", "default_model": "scripted-1"}  # fmt: skip
    response = client.post("/api/providers", json=body, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


class KeyedSocket:
    """A sidecar WebSocket, authenticated with its first frame (as the UI does)."""

    PATH = ""

    def __init__(self, client: TestClient, api_key: str) -> None:
        self._cm = client.websocket_connect(WS_BASE + self.PATH)
        self.ws = self._cm.__enter__()
        self.ws.send_json({"type": "auth", "apiKey": api_key})
        assert self.ws.receive_json() == {"type": "auth.ok"}

    def close(self) -> None:
        self._cm.__exit__(None, None, None)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class EventsSocket(KeyedSocket):
    PATH = "/ws/events"

    def next_of(self, event_type: str, limit: int = 2_000) -> dict[str, Any]:
        """The next event of that type (heartbeats and the rest are skipped)."""
        for _ in range(limit):
            event = self.ws.receive_json()
            if event["type"] == event_type:
                return event
        raise AssertionError(f"no {event_type} event")


class ChatSocket(KeyedSocket):
    PATH = "/ws/chat"

    def __init__(self, client: TestClient, api_key: str) -> None:
        super().__init__(client, api_key)
        # Frames of replies already running that arrived while request() waited for its answer:
        # the next until() sees them first, so concurrent replies lose nothing.
        self._backlog: deque[dict[str, Any]] = deque()

    def request(self, frame: dict[str, Any]) -> dict[str, Any]:
        """Send a frame and return the server's direct reply (accepted or error)."""
        self.ws.send_json(frame)
        for _ in range(10_000):
            answer = self.ws.receive_json()
            if answer["type"] in ("chat.accepted", "error"):
                return answer
            self._backlog.append(answer)
        raise AssertionError("no answer to the request")

    def until(self, done, limit: int = 10_000) -> list[dict[str, Any]]:
        frames = []
        for _ in range(limit):
            frame = self._backlog.popleft() if self._backlog else self.ws.receive_json()
            frames.append(frame)
            if done(frame):
                return frames
        raise AssertionError("no terminal frame")

    def finish(self, message_id: str) -> list[dict[str, Any]]:
        return self.until(lambda f: f["type"] in TERMINAL and f.get("messageId") == message_id)

    def send(self, content: str, **extra: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        accepted = self.request({"type": "chat.send", "content": content, **extra})
        assert accepted["type"] == "chat.accepted", accepted
        return accepted, self.finish(accepted["messageId"])


def text_of(frames: list[dict[str, Any]]) -> str:
    return "".join(f["delta"] for f in frames if f["type"] == "message.delta")


def send_once(client: TestClient, api_key: str, content: str, **extra: Any):
    """Open `/ws/chat`, send one message, wait for the reply to end: (accepted, frames)."""
    with ChatSocket(client, api_key) as socket:
        return socket.send(content, **extra)
