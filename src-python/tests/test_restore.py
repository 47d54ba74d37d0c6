"""Settings → Data → Restore on a real data dir: export everything, change the data, restore the
zip, start again — the data is the export's, the replaced data is in the safety copy; and a zip
that is not a Sage backup (a path escape, a link, a damaged file, a newer schema) is refused
before anything is touched."""

import io
import json
import sqlite3
import stat
import zipfile
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from sage_sidecar.core.config import Settings
from sage_sidecar.services import restore

from chat_client import add_scripted_provider, send_once

ORIGIN = "http://127.0.0.1:8765"


@pytest.fixture(autouse=True)
def default_network_and_search_after():
    """Both are process-wide: leave them as a fresh start has them."""
    yield
    from sage_sidecar.core import network
    from sage_sidecar.tools import web_search

    network.activate(network.system_profile())
    web_search.configure(web_search.SearchConfig())


def snapshot(client: TestClient, auth) -> dict:
    """What a user sees: agents, conversations with their messages, files in the workspace."""
    conversations = client.get("/api/conversations", headers=auth).json()
    return {
        "agents": sorted((a["id"], a["name"]) for a in client.get("/api/agents", headers=auth).json()),
        "conversations": sorted(
            (c["id"], c["title"],
             tuple(m["content"] for m in client.get(f"/api/conversations/{c['id']}/messages",
                                                      headers=auth).json()))
            for c in conversations),
    }  # fmt: skip


def upload(client: TestClient, auth, data: bytes, name: str = "backup.zip"):
    return client.post("/api/system/restore", files={"file": (name, data, "application/zip")},
                       headers=auth)  # fmt: skip


def test_export_change_restore_gives_back_the_export(app: FastAPI, client: TestClient, auth,
                                                    api_key, settings: Settings, scripted):  # fmt: skip
    add_scripted_provider(client, auth, scripted)
    scripted.load([{"text": "Hello before the export."}])
    send_once(client, api_key, "A conversation in the backup")
    client.post("/api/agents", json={"name": "Kept agent"}, headers=auth)
    (settings.storage_dir / "workspaces" / "kept").mkdir(parents=True)
    (settings.storage_dir / "workspaces" / "kept" / "note.txt").write_text("in the backup")
    exported = client.get("/api/system/export", headers=auth)
    assert exported.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(exported.content)).namelist()
    assert "manifest.json" in names and "storage/workspaces/kept/note.txt" in names
    before = snapshot(client, auth)

    assert before["conversations"][0][2] == ("A conversation in the backup",
                                             "Hello before the export.")  # fmt: skip

    # Change everything after the export.
    scripted.load([{"text": "Said after the export."}])
    send_once(client, api_key, "A conversation after the backup")
    client.post("/api/agents", json={"name": "Added later"}, headers=auth)
    (settings.storage_dir / "workspaces" / "kept" / "note.txt").write_text("changed later")
    (settings.storage_dir / "later.txt").write_text("later")
    changed = snapshot(client, auth)
    assert changed != before

    staged = upload(client, auth, exported.content)
    assert staged.status_code == 200, staged.text
    assert staged.json()["agents"] == len(before["agents"])
    assert client.get("/api/system/restore", headers=auth).json() == {"pending": True}
    assert snapshot(client, auth) == changed  # nothing changes until the next start
    client.__exit__(None, None, None)

    with TestClient(app, base_url=ORIGIN) as again:
        assert snapshot(again, auth) == before
        assert again.get("/api/system/restore", headers=auth).json() == {"pending": False}
    note = settings.storage_dir / "workspaces" / "kept" / "note.txt"
    assert note.read_text() == "in the backup" and not (settings.storage_dir / "later.txt").exists()
    # The data it replaced is kept whole, as it was.
    [safety] = (settings.backups_dir).glob("before-restore-*")
    assert (safety / "storage" / "later.txt").read_text() == "later"
    assert (safety / "storage" / "workspaces" / "kept" / "note.txt").read_text() == "changed later"
    with sqlite3.connect(safety / "agent_platform.db") as conn:
        assert (
            conn.execute("SELECT count(*) FROM agents WHERE name = 'Added later'").fetchone()[0]
            == 1
        )
    assert not (settings.data_dir / restore.STAGING).exists()


def good_zip(settings: Settings, client: TestClient, auth) -> bytes:
    return client.get("/api/system/export", headers=auth).content


def rewritten(data: bytes, change) -> bytes:
    """A copy of the zip with `change(name, bytes) -> [(ZipInfo or name, bytes)]` per entry."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            for entry, content in change(info.filename, source.read(info)):
                target.writestr(entry, content)
    return out.getvalue()


def link(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


@pytest.mark.parametrize("case, code", [
    ("escape", "restore.bad_path"), ("absolute", "restore.bad_path"),
    ("backslash", "restore.bad_path"), ("link", "restore.bad_path"),
    ("foreign", "restore.bad_path"), ("no_database", "restore.no_database"),
    ("tampered", "restore.manifest_mismatch"), ("unlisted", "restore.manifest_mismatch"),
    ("not_sqlite", "restore.bad_database"), ("newer_schema", "restore.newer_database"),
    ("newer_format", "restore.newer_backup"),
])  # fmt: skip
def test_a_zip_that_is_not_a_sage_backup_is_refused_untouched(client: TestClient, auth,
                                                              settings: Settings, case, code):  # fmt: skip
    data = good_zip(settings, client, auth)

    def change(name: str, content: bytes):
        if case == "escape" and name == "README.txt":
            return [(name, content), ("storage/../../evil.txt", b"x")]
        if case == "absolute" and name == "README.txt":
            return [(name, content), ("/tmp/evil.txt", b"x")]
        if case == "backslash" and name == "README.txt":
            return [(name, content), ("storage\\..\\evil.txt", b"x")]
        if case == "link" and name == "README.txt":
            return [(name, content), (link("storage/escape"), b"/etc")]
        if case == "foreign" and name == "README.txt":
            return [(name, content), ("logs/sidecar.log", b"x")]
        if case == "no_database" and name == "agent_platform.db":
            return []
        if case == "tampered" and name == "agent_platform.db":
            return [(name, content[:-1] + bytes([content[-1] ^ 1]))]
        if case == "unlisted" and name == "README.txt":
            return [(name, content), ("storage/extra.txt", b"x")]
        if case == "not_sqlite" and name == "manifest.json":
            return []  # no checksums, so the database itself is judged
        if case == "not_sqlite" and name == "agent_platform.db":
            return [(name, b"not a database" * 10)]
        if case == "newer_schema" and name == "manifest.json":
            return []
        if case == "newer_schema" and name == "agent_platform.db":
            path = settings.data_dir / "newer.db"
            path.write_bytes(content)
            with sqlite3.connect(path) as conn:
                conn.execute("UPDATE alembic_version SET version_num = '9999'")
            return [(name, path.read_bytes())]
        if case == "newer_format" and name == "manifest.json":
            return [(name, json.dumps({**json.loads(content), "version": 2}))]
        return [(name, content)]

    response = upload(client, auth, rewritten(data, change))
    assert response.status_code in (413, 415, 422), response.text
    assert response.json()["code"] == code, response.json()
    assert not restore.pending(settings)
    assert not (settings.data_dir / restore.STAGING).exists()
    assert not (settings.data_dir.parent / "evil.txt").exists()


def test_not_a_zip_and_a_cancelled_restore(client: TestClient, auth, settings: Settings):
    response = upload(client, auth, b"PK not really")
    assert response.status_code == 422 and response.json()["code"] == "restore.not_a_zip"
    assert upload(client, auth, good_zip(settings, client, auth)).status_code == 200
    assert client.delete("/api/system/restore", headers=auth).status_code == 204
    assert not restore.pending(settings) and not (settings.data_dir / restore.STAGING).exists()


def test_an_interrupted_swap_resumes_instead_of_mixing(settings: Settings, tmp_path: Path):
    """A crash after the current data was moved aside but before the backup was put in place:
    the next start finishes the swap."""
    settings.ensure_layout()
    settings.db_path.write_bytes(b"current")
    staging = settings.data_dir / restore.STAGING
    (staging / "storage").mkdir(parents=True)
    (staging / "agent_platform.db").write_bytes(b"restored")
    (staging / "storage" / "a.txt").write_text("restored file")
    safety = settings.backups_dir / "before-restore-x"
    safety.mkdir(parents=True)
    settings.db_path.rename(safety / "agent_platform.db")  # moved aside, then the crash
    (settings.data_dir / restore.PENDING).write_text(json.dumps({"phase": "moving",
                                                                  "safety": str(safety)}))  # fmt: skip
    assert restore.apply_pending(settings) == safety
    assert settings.db_path.read_bytes() == b"restored"
    assert (settings.storage_dir / "a.txt").read_text() == "restored file"
    assert (safety / "agent_platform.db").read_bytes() == b"current"
    assert not restore.pending(settings) and not staging.exists()


def test_the_export_leaves_out_the_search_key_and_the_proxy_password(client: TestClient, auth):
    client.put("/api/network", json={"mode": "custom",
                                     "proxy_url": "http://ann:pr0xy-pass@10.0.0.1:3128"}, headers=auth)  # fmt: skip
    client.put("/api/web-search", json={"backend": "brave", "api_key": "BSA-s3cret"}, headers=auth)
    data = client.get("/api/system/export", headers=auth).content
    database = zipfile.ZipFile(io.BytesIO(data)).read("agent_platform.db")
    assert b"pr0xy-pass" not in database and b"BSA-s3cret" not in database
    assert b"http://ann@10.0.0.1:3128" in database  # the proxy itself is kept


def test_without_a_keychain_the_export_still_leaves_out_the_proxy_password(
    settings, auth, monkeypatch
):
    """No keychain: the password is kept beside the URL in plain text; the export drops it."""
    from sage_sidecar.app import create_app
    from sage_sidecar.core import keychain

    from conftest import TEST_ORIGIN

    monkeypatch.delenv(keychain.TEST_FILE_ENV)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    keychain.redetect()
    try:
        with TestClient(create_app(settings), base_url=TEST_ORIGIN) as client:
            client.put("/api/network", json={"mode": "custom",
                       "proxy_url": "http://ann:pl41n-pass@10.0.0.1:3128"}, headers=auth)  # fmt: skip
            data = client.get("/api/system/export", headers=auth).content
    finally:
        monkeypatch.undo()
        keychain.redetect()
    database = zipfile.ZipFile(io.BytesIO(data)).read("agent_platform.db")
    assert b"pl41n-pass" not in database
    assert b"http://ann@10.0.0.1:3128" in database
