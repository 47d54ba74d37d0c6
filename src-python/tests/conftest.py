import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from sage_sidecar.app import create_app
from sage_sidecar.core.config import Settings
from sage_sidecar.demo.scripted import RunningScripted

# The in-process client pretends to be the webview talking to 127.0.0.1:PORT.
TEST_ORIGIN = "http://127.0.0.1:8765"
WS_BASE = "ws://127.0.0.1:8765"


@pytest.fixture(autouse=True)
def test_keychain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test keeps its keychain secrets in a file of its own (core/keychain.py's tests-only
    store), never in the developer's keychain; tests/test_keychain.py uses a real one."""
    path = tmp_path / "test-keychain.json"
    monkeypatch.setenv("SAGE_TEST_KEYCHAIN_FILE", str(path))
    return path


@pytest.fixture
def api_key() -> str:
    return secrets.token_hex(32)


@pytest.fixture
def settings(tmp_path: Path, api_key: str, request: pytest.FixtureRequest) -> Settings:
    """The app's settings. A test, class or module changes some with
    `@pytest.mark.settings(name=value, …)` (the closest marker wins per name)."""
    overrides: dict[str, object] = {}
    for marker in reversed(list(request.node.iter_markers("settings"))):
        overrides.update(marker.kwargs)
    # auto_title off: most tests count the provider calls they script; test_titles turns it on.
    values: dict[str, object] = {"heartbeat_seconds": 0.05, "auto_title": False, **overrides}
    return Settings(api_key=api_key, data_dir=tmp_path / "data", **values)  # type: ignore[arg-type]


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url=TEST_ORIGIN) as test_client:
        yield test_client


@pytest.fixture
def auth(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"}


@pytest.fixture
def scripted() -> Iterator[RunningScripted]:
    """Our scripted OpenAI/Anthropic-compatible server on loopback, one per test."""
    with RunningScripted() as server:
        yield server


def slow_keychain(monkeypatch: pytest.MonkeyPatch, seconds: float = 0.5) -> None:
    """Make the secrets key arrive late at the next start (a keychain that takes its time), so
    a test sees whether a reader waits for it."""
    import time

    from sage_sidecar.core import keychain

    fetch = keychain.get_or_create_key

    def slow(name: str, *args: object, **kwargs: object) -> bytes:
        time.sleep(seconds)
        return fetch(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(keychain, "get_or_create_key", slow)
