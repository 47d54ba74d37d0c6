"""Stored secrets (storage/secrets.py): provider keys and MCP env/header values are encrypted on
disk with the keychain-held key, read back in plaintext by the app, sealed at start when stored
before (or without a keychain), reported when there is no keychain or the key is gone, and a
secret is not carried to a new host."""

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from sage_sidecar.core import keychain
from sage_sidecar.core.config import Settings
from sage_sidecar.demo.scripted import RunningScripted
from sage_sidecar.storage.secrets import PREFIX

from conftest import TEST_ORIGIN

KEY = "sk-planted-4f1c9e"  # distinctive: searched for in the database file's bytes
ENV = "env-planted-7a2b"
HEADER = "Bearer hdr-planted-9d3e"


@pytest.fixture
def no_keychain(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The app as on a machine without a keychain (keyring's own "no backend")."""
    monkeypatch.delenv(keychain.TEST_FILE_ENV)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    keychain.redetect()
    yield
    monkeypatch.undo()
    keychain.redetect()


def start(settings: Settings) -> TestClient:
    from sage_sidecar.app import create_app

    return TestClient(create_app(settings), base_url=TEST_ORIGIN)


def add_secrets(client: TestClient, auth: dict[str, str], base_url: str) -> tuple[str, str]:
    provider = client.post(
        "/api/providers",
        json={"name": "p", "kind": "openai", "base_url": base_url, "api_key": KEY},
        headers=auth,
    )
    assert provider.status_code == 201, provider.text
    server = client.post(
        "/api/mcp-servers",
        json={
            "name": "remote",
            "transport": "http",
            "url": "https://mcp.example.test/mcp",
            "headers": {"Authorization": HEADER},
        },
        headers=auth,
    )
    assert server.status_code == 201, server.text
    local = client.post(
        "/api/mcp-servers",
        json={"name": "local", "transport": "stdio", "command": "true", "env": {"TOKEN": ENV}},
        headers=auth,
    )
    assert local.status_code == 201, local.text
    return provider.json()["id"], server.json()["id"]


def raw_values(db_path: Path) -> list[str]:
    with sqlite3.connect(db_path) as db:
        keys = [r[0] for r in db.execute("SELECT api_key FROM providers WHERE api_key IS NOT NULL")]
        values: list[str] = []
        for env, headers in db.execute("SELECT env, headers FROM mcp_servers"):
            values += [*json.loads(env).values(), *json.loads(headers).values()]
    return keys + values


def database_bytes(settings: Settings) -> bytes:
    files = [settings.db_path, settings.db_path.with_name(settings.db_path.name + "-wal")]
    return b"".join(p.read_bytes() for p in files if p.exists())


def status(client: TestClient, auth: dict[str, str]) -> dict:
    response = client.get("/api/privacy/secrets", headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


def test_secrets_are_encrypted_on_disk_and_plain_to_the_app(
    settings: Settings, auth: dict[str, str], scripted: RunningScripted, test_keychain: Path
) -> None:
    with start(settings) as client:
        provider_id, _ = add_secrets(client, auth, scripted.base_url)
        assert status(client, auth) == {
            "secrets_encrypted": True,
            "unreadable_secrets": 0,
            "keychain": {"available": True, "backend": "test file", "reason": None},
        }
        # The provider call carries the real key: the scripted server refuses "bad-key" only.
        verdict = client.post(f"/api/providers/{provider_id}/test", headers=auth).json()
        assert verdict["ok"], verdict
        client.patch(f"/api/providers/{provider_id}", json={"api_key": "bad-key"}, headers=auth)
        verdict = client.post(f"/api/providers/{provider_id}/test", headers=auth).json()
        assert verdict["verdict"] == "bad_key"
        client.patch(f"/api/providers/{provider_id}", json={"api_key": KEY}, headers=auth)
        # The key and the MCP values are write-only, as before.
        assert KEY not in client.get("/api/providers", headers=auth).text
        assert ENV not in client.get("/api/mcp-servers", headers=auth).text

    values = raw_values(settings.db_path)
    assert len(values) == 3 and all(v.startswith(PREFIX) for v in values)
    stored = database_bytes(settings)
    for planted in (KEY, ENV, HEADER.split()[1]):
        assert planted.encode() not in stored
    assert "secrets-key" in json.loads(test_keychain.read_text())


def test_without_a_keychain_secrets_stay_plain_and_are_sealed_later(
    settings: Settings, auth: dict[str, str], scripted: RunningScripted, no_keychain: None
) -> None:
    with start(settings) as client:
        provider_id, _ = add_secrets(client, auth, scripted.base_url)
        report = status(client, auth)
        assert report["secrets_encrypted"] is False
        assert report["keychain"]["available"] is False and report["keychain"]["reason"]
        # The app keeps working with plaintext secrets.
        assert client.post(f"/api/providers/{provider_id}/test", headers=auth).json()["ok"]
    assert sorted(raw_values(settings.db_path)) == sorted([KEY, ENV, HEADER])

    keychain_file = settings.data_dir.parent / "later-keychain.json"
    with pytest.MonkeyPatch.context() as env:
        env.delenv("PYTHON_KEYRING_BACKEND")
        env.setenv(keychain.TEST_FILE_ENV, str(keychain_file))
        with start(settings) as client:  # the next start with a keychain seals them
            assert status(client, auth)["secrets_encrypted"] is True
            assert client.post(f"/api/providers/{provider_id}/test", headers=auth).json()["ok"]
    assert all(v.startswith(PREFIX) for v in raw_values(settings.db_path))
    assert KEY.encode() not in database_bytes(settings)


def test_retry_finds_a_keychain_without_a_restart(
    settings: Settings, auth: dict[str, str], scripted: RunningScripted, no_keychain: None
) -> None:
    with start(settings) as client:
        add_secrets(client, auth, scripted.base_url)
        assert status(client, auth)["secrets_encrypted"] is False
        with pytest.MonkeyPatch.context() as env:
            env.delenv("PYTHON_KEYRING_BACKEND")
            env.setenv(keychain.TEST_FILE_ENV, str(settings.data_dir.parent / "k.json"))
            report = client.post("/api/privacy/secrets/retry", headers=auth).json()
            assert report["secrets_encrypted"] is True
            assert report["keychain"]["backend"] == "test file"
            assert all(v.startswith(PREFIX) for v in raw_values(settings.db_path))


def test_a_lost_key_reads_as_unset_and_is_reported(
    settings: Settings, auth: dict[str, str], scripted: RunningScripted, test_keychain: Path
) -> None:
    with start(settings) as client:
        provider_id, server_id = add_secrets(client, auth, scripted.base_url)
    test_keychain.unlink()  # the keychain entry is gone (another machine, a wiped keychain)
    with start(settings) as client:
        report = status(client, auth)
        assert report["unreadable_secrets"] == 3
        provider = client.get(f"/api/providers/{provider_id}", headers=auth).json()
        assert provider["has_api_key"] is False
        server = client.get(f"/api/mcp-servers/{server_id}", headers=auth).json()
        assert server["header_keys"] == ["Authorization"]  # the name stays, the value is lost
        # Entering the key again works, under the new key.
        client.patch(f"/api/providers/{provider_id}", json={"api_key": KEY}, headers=auth)
        assert client.post(f"/api/providers/{provider_id}/test", headers=auth).json()["ok"]


def test_a_new_host_does_not_inherit_a_secret(
    settings: Settings, auth: dict[str, str], scripted: RunningScripted
) -> None:
    with start(settings) as client:
        provider_id, server_id = add_secrets(client, auth, scripted.base_url)

        def has_key() -> bool:
            return client.get(f"/api/providers/{provider_id}", headers=auth).json()["has_api_key"]

        def patch(body: dict) -> None:
            response = client.patch(f"/api/providers/{provider_id}", json=body, headers=auth)
            assert response.status_code == 200, response.text

        patch({"base_url": scripted.base_url + "/other/path/"})  # same host: key kept
        assert has_key()
        patch({"base_url": scripted.base_url.replace("127.0.0.1", "localhost")})
        assert not has_key()
        patch({"base_url": scripted.base_url, "api_key": KEY})  # sent with the change: kept
        assert has_key()

        def header_keys(body: dict) -> list[str]:
            response = client.patch(f"/api/mcp-servers/{server_id}", json=body, headers=auth)
            assert response.status_code == 200, response.text
            return response.json()["header_keys"]

        assert header_keys({"url": "https://mcp.example.test:443/other"}) == ["Authorization"]
        assert header_keys({"url": "https://elsewhere.example.test/mcp"}) == []
        assert header_keys(
            {"url": "https://mcp.example.test/mcp", "headers": {"X-Token": "t"}}
        ) == ["X-Token"]
