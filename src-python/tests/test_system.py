"""Settings → Data: where the data lives, and export everything as one zip without secrets."""

import io
import sqlite3
import zipfile

from fastapi.testclient import TestClient


def test_system_info_names_the_data_folders_and_their_sizes(client: TestClient, auth, settings):
    (settings.storage_dir / "note.txt").write_text("x" * 1000)
    info = client.get("/api/system", headers=auth).json()
    assert info["data_dir"] == str(settings.data_dir)
    assert info["logs_dir"] == str(settings.logs_dir)
    assert info["database"]["path"] == str(settings.db_path)
    assert info["database"]["bytes"] > 0
    assert info["storage"]["bytes"] >= 1000


def test_export_holds_everything_but_the_secrets(client: TestClient, auth, settings, tmp_path):
    provider = client.post(
        "/api/providers",
        headers=auth,
        json={
            "name": "Cloud",
            "kind": "openai",
            "base_url": "https://llm.example/v1",
            "api_key": "sk-very-secret-key",
        },  # fmt: skip
    ).json()
    client.post(
        "/api/mcp-servers",
        headers=auth,
        json={
            "name": "tools",
            "transport": "stdio",
            "command": "/bin/true",
            "env": {"TOKEN": "mcp-secret-token"},
        },  # fmt: skip
    )
    (settings.storage_dir / "kb").mkdir()
    (settings.storage_dir / "kb" / "guide.md").write_text("# Guide")

    response = client.get("/api/system/export", headers=auth)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert "sage-backup-" in response.headers["content-disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = set(archive.namelist())
    assert {"README.txt", "agent_platform.db", "storage/kb/guide.md"} <= names
    assert archive.read("storage/kb/guide.md") == b"# Guide"

    restored = tmp_path / "restored.db"
    restored.write_bytes(archive.read("agent_platform.db"))
    with sqlite3.connect(restored) as db:
        assert db.execute(
            "SELECT name, api_key FROM providers WHERE id = ?", (provider["id"],)
        ).fetchone() == ("Cloud", None)
        assert db.execute("SELECT env FROM mcp_servers").fetchone() == ("{}",)
    raw = archive.read("agent_platform.db")
    assert b"sk-very-secret-key" not in raw and b"mcp-secret-token" not in raw


def test_export_needs_the_key(client: TestClient):
    assert client.get("/api/system/export").status_code == 401
