"""Skills through the API on a real data dir: import (zip, folder), the refusals (hostile zips),
CRUD, export/import round trip, per-agent enabling, the shipped skills, and what a reply's
system prompt carries."""

import io
import sqlite3
import zipfile

import pytest
from fastapi.testclient import TestClient
from skill_zips import bomb_zip, lying_zip, make_zip, skill_md, symlink_zip

from sage_sidecar.services.skills import bundle

SHIPPED = {"code-review", "email-reply", "meeting-notes", "summarize-document"}


def upload_zip(client: TestClient, auth, data: bytes, name: str = "skill.zip", **params):
    return client.post("/api/skills/import", params=params, headers=auth,
                       files={"files": (name, data, "application/zip")})  # fmt: skip


def by_name(client: TestClient, auth) -> dict[str, dict]:
    return {s["name"]: s for s in client.get("/api/skills", headers=auth).json()}


def test_the_shipped_skills_are_there_at_first_start_and_not_again(client, auth, app, settings):
    skills = by_name(client, auth)
    assert SHIPPED <= skills.keys()
    assert all(skills[n]["builtin"] and skills[n]["description"] for n in SHIPPED)
    detail = client.get(f"/api/skills/{skills['meeting-notes']['id']}", headers=auth).json()
    assert "template.md" in [f["path"] for f in detail["files"]]
    # Deleted by the user: a restart does not bring it back; "restore" does. An imported one stays.
    client.delete(f"/api/skills/{skills['email-reply']['id']}", headers=auth)
    mine = upload_zip(client, auth, make_zip({"SKILL.md": skill_md(), "a.txt": "kept"})).json()
    client.__exit__(None, None, None)
    with TestClient(app, base_url="http://127.0.0.1:8765") as again:
        assert "email-reply" not in by_name(again, auth)
        kept = again.get(f"/api/skills/{mine['id']}/file", params={"path": "a.txt"}, headers=auth)
        assert kept.json()["text"] == "kept"
        restored = again.post("/api/skills/builtin/restore", headers=auth)
        assert restored.status_code == 200
        assert SHIPPED <= by_name(again, auth).keys()


def test_import_a_zip_view_edit_export_and_delete(client, auth, settings):
    data = make_zip({"SKILL.md": skill_md(), "forms/template.txt": "Fill me"}, top="pdf-helper")
    created = upload_zip(client, auth, data)
    assert created.status_code == 201, created.text
    skill = created.json()
    assert (skill["name"], skill["description"], skill["file_count"]) == (
        "pdf-helper", "Helps with PDFs.", 2)  # fmt: skip
    folder = settings.storage_dir / "skills" / skill["id"]
    assert (folder / "forms" / "template.txt").read_text() == "Fill me"  # unwrapped
    detail = client.get(f"/api/skills/{skill['id']}", headers=auth).json()
    assert detail["skill_md"].startswith("---\nname: pdf-helper")
    text = client.get(f"/api/skills/{skill['id']}/file", params={"path": "forms/template.txt"},
                      headers=auth).json()  # fmt: skip
    assert text["text"] == "Fill me" and not text["binary"]
    escape = client.get(f"/api/skills/{skill['id']}/file", params={"path": "../../agent_platform.db"},
                        headers=auth)  # fmt: skip
    assert escape.status_code == 422 and escape.json()["code"] == "workspace.path_refused"

    edited = client.put(f"/api/skills/{skill['id']}/skill-md", headers=auth,
                        json={"skill_md": skill_md("pdf-pro", "Better PDFs.")})  # fmt: skip
    assert edited.status_code == 200 and edited.json()["name"] == "pdf-pro"
    broken = client.put(f"/api/skills/{skill['id']}/skill-md", headers=auth,
                        json={"skill_md": "no front matter"})  # fmt: skip
    assert broken.status_code == 422 and broken.json()["code"] == "skill.no_front_matter"

    exported = client.get(f"/api/skills/{skill['id']}/export", headers=auth)
    assert exported.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(exported.content)).namelist()
    assert sorted(names) == ["pdf-pro/SKILL.md", "pdf-pro/forms/template.txt"]

    assert client.delete(f"/api/skills/{skill['id']}", headers=auth).status_code == 204
    assert not folder.exists()
    assert client.get(f"/api/skills/{skill['id']}", headers=auth).status_code == 404
    # The export imports again as it was.
    again = upload_zip(client, auth, exported.content, "pdf-pro.zip")
    assert again.status_code == 201 and again.json()["name"] == "pdf-pro"


def test_a_name_taken_is_a_conflict_unless_replace(client, auth, settings):
    first = upload_zip(client, auth, make_zip({"SKILL.md": skill_md(), "a.txt": "old"})).json()
    second = upload_zip(client, auth, make_zip({"SKILL.md": skill_md("PDF-Helper", "New.")}))
    assert second.status_code == 409
    assert second.json()["code"] == "skill.exists"
    assert second.json()["params"] == {"name": "pdf-helper", "id": first["id"]}
    replaced = upload_zip(client, auth, make_zip({"SKILL.md": skill_md("PDF-Helper", "New.")}),
                          replace="true")  # fmt: skip
    assert replaced.status_code == 201
    assert replaced.json()["id"] == first["id"] and replaced.json()["description"] == "New."
    folder = settings.storage_dir / "skills" / first["id"]
    assert not (folder / "a.txt").exists()  # the old files went with the old version
    assert not list((settings.storage_dir / "skills-incoming").iterdir())


def test_a_folder_uploads_as_files_with_relative_paths(client, auth):
    files = [("files", ("my-skill/SKILL.md", skill_md("folder-skill"), "text/markdown")),
             ("files", ("my-skill/scripts/run.py", "print(1)", "text/x-python"))]  # fmt: skip
    created = client.post("/api/skills/import", files=files, headers=auth)
    assert created.status_code == 201, created.text
    detail = client.get(f"/api/skills/{created.json()['id']}", headers=auth).json()
    assert sorted(f["path"] for f in detail["files"]) == ["SKILL.md", "scripts/run.py"]
    escape = [("files", ("../SKILL.md", skill_md("evil"), "text/markdown"))]
    refused = client.post("/api/skills/import", files=escape, headers=auth)
    assert refused.status_code == 422 and refused.json()["code"] == "skill.path_refused"


@pytest.mark.parametrize(
    ("archive", "status", "code", "reason"),
    [
        (make_zip({"SKILL.md": skill_md(), "../../evil.txt": "x"}), 422, "skill.path_refused",
         "traversal"),
        (make_zip({"SKILL.md": skill_md(), "/etc/evil": "x"}), 422, "skill.path_refused",
         "absolute"),
        (make_zip({"SKILL.md": skill_md(), "C:/evil.txt": "x"}), 422, "skill.path_refused",
         "drive"),
        (make_zip({"SKILL.md": skill_md(), "sub\\..\\..\\evil": "x"}), 422, "skill.path_refused",
         "traversal"),
        (make_zip({"SKILL.md": skill_md(), "CON.txt": "x"}), 422, "skill.path_refused",
         "reserved_name"),
        (symlink_zip(), 422, "skill.symlink", None),
        (make_zip({"README.md": "no skill here"}), 422, "skill.missing_skill_md", None),
        (make_zip({"SKILL.md": "# Just a heading\n\nNo front matter."}), 422,
         "skill.no_front_matter", None),
        (make_zip({"SKILL.md": "---\nname: x\n---\nbody"}), 422, "skill.missing_field", None),
        (make_zip({"SKILL.md": "---\nname: [unclosed\n---\n"}), 422, "skill.bad_front_matter",
         None),
        (make_zip({"SKILL.md": skill_md(name="../etc")}), 422, "skill.bad_name", None),
        (make_zip({"SKILL.md": skill_md(), "skill.md": "again"}), 422, "skill.duplicate_path",
         None),
        (b"PK\x03\x04 not really a zip", 422, "skill.not_a_zip", None),
        (make_zip({f"f{i}.txt": "x" for i in range(5_000)} | {"SKILL.md": skill_md()}), 422,
         "skill.too_many_files", None),
    ],
)  # fmt: skip
def test_hostile_zips_are_refused_with_a_reason_and_leave_nothing(
    client, auth, settings, archive, status, code, reason
):
    before = by_name(client, auth)
    response = upload_zip(client, auth, archive)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code, body
    if reason:
        assert body["params"]["reason"] == reason
    assert by_name(client, auth) == before
    incoming = settings.storage_dir / "skills-incoming"
    assert not incoming.exists() or not list(incoming.iterdir())
    assert not (settings.data_dir / "evil.txt").exists()


def test_a_zip_bomb_stops_at_the_limit(client, auth, monkeypatch):
    monkeypatch.setattr(bundle, "MAX_FILE_BYTES", 2 * 1024 * 1024)
    response = upload_zip(client, auth, bomb_zip(8 * 1024 * 1024))
    assert response.status_code == 413 and response.json()["code"] == "skill.file_too_large"
    monkeypatch.setattr(bundle, "MAX_TOTAL_BYTES", 3 * 1024 * 1024)
    monkeypatch.setattr(bundle, "MAX_FILE_BYTES", 10 * 1024 * 1024)
    response = upload_zip(client, auth, bomb_zip(8 * 1024 * 1024))
    assert response.status_code == 413 and response.json()["code"] == "skill.too_large"


def test_a_header_that_lies_about_the_size_is_caught_while_inflating(client, auth):
    response = upload_zip(client, auth, lying_zip(100_000))
    assert response.status_code == 422 and response.json()["code"] == "skill.corrupt"


def test_an_upload_over_the_size_limit_is_refused(client, auth, monkeypatch):
    from sage_sidecar.api.routes import skills as route

    monkeypatch.setattr(route, "MAX_UPLOAD_BYTES", 100_000)
    response = upload_zip(client, auth, make_zip({"SKILL.md": skill_md(), "a": "x" * 10})
                          + b"\0" * 200_000)  # fmt: skip
    assert response.status_code == 413 and response.json()["code"] == "skill.upload_too_large"


def test_agents_enable_skills_and_lose_them_when_deleted(client, auth, settings):
    agent = client.post("/api/agents", json={"name": "Helper"}, headers=auth).json()
    skills = by_name(client, auth)
    ids = [skills["code-review"]["id"], skills["email-reply"]["id"]]
    put = client.put(f"/api/agents/{agent['id']}/skills", json={"skill_ids": ids}, headers=auth)
    assert put.status_code == 200 and put.json()["skill_ids"] == ids
    got = client.get(f"/api/agents/{agent['id']}/skills", headers=auth).json()["skill_ids"]
    assert sorted(got) == sorted(ids)
    unknown = client.put(f"/api/agents/{agent['id']}/skills", json={"skill_ids": ["f" * 32]},
                         headers=auth)  # fmt: skip
    assert unknown.status_code == 422 and unknown.json()["code"] == "skill.unknown_skills"
    client.delete(f"/api/skills/{ids[0]}", headers=auth)
    left = client.get(f"/api/agents/{agent['id']}/skills", headers=auth).json()["skill_ids"]
    assert left == [ids[1]]
    assert client.get("/api/agents/nope/skills", headers=auth).status_code == 404
    # Deleting the agent takes its rows with it (ON DELETE CASCADE), not the skill.
    assert client.delete(f"/api/agents/{agent['id']}", headers=auth).status_code == 204
    with sqlite3.connect(settings.db_path) as db:
        assert db.execute("SELECT count(*) FROM agent_skills").fetchone() == (0,)
    assert client.get(f"/api/skills/{ids[1]}", headers=auth).status_code == 200


def test_an_import_that_is_not_multipart_is_refused_with_a_code(client, auth):
    for headers in (
        {},
        {"Content-Type": "application/zip"},
        {"Content-Type": "multipart/form-data"},
    ):
        response = client.post("/api/skills/import", content=b"PK", headers={**auth, **headers})
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "skill.bad_upload"


def test_a_folder_on_this_computer_imports_by_path_and_hostile_ones_are_refused(
    client, auth, tmp_path
):
    """The desktop's folder dialog sends a path; the sidecar reads the folder, checked as an upload."""
    import os

    def import_path(path, **extra):
        return client.post("/api/skills/import-path", json={"path": str(path), **extra},
                           headers=auth)  # fmt: skip

    folder = tmp_path / "trip-skill"
    (folder / "notes").mkdir(parents=True)
    (folder / "SKILL.md").write_text(skill_md("trip"))
    (folder / "notes" / "a.md").write_text("pack light")
    created = import_path(folder)
    assert created.status_code == 201, created.text
    detail = client.get(f"/api/skills/{created.json()['id']}", headers=auth).json()
    assert sorted(f["path"] for f in detail["files"]) == ["SKILL.md", "notes/a.md"]
    archive = tmp_path / "zipped.zip"
    archive.write_bytes(make_zip({"SKILL.md": skill_md("zipped")}, top="zipped"))
    assert import_path(archive).status_code == 201

    (folder / "notes" / "passwd").symlink_to("/etc/passwd")
    linked = import_path(folder, replace=True)
    assert linked.status_code == 422 and linked.json()["code"] == "skill.symlink"
    (folder / "notes" / "passwd").unlink()
    os.mkfifo(folder / "pipe")
    piped = import_path(folder, replace=True)
    assert piped.status_code == 422 and piped.json()["code"] == "skill.special_file"
    (folder / "pipe").unlink()
    for i in range(bundle.MAX_FILES + 1):
        (folder / "notes" / f"{i}.txt").write_text("x")
    many = import_path(folder, replace=True)
    assert many.status_code == 422 and many.json()["code"] == "skill.too_many_files"
    for path in ("relative/folder", str(tmp_path / "missing"), str(folder / "SKILL.md")):
        refused = import_path(path)
        assert refused.status_code == 422 and refused.json()["code"] == "skill.not_a_folder", path
    # Nothing of the refused imports was kept: the first version is still there, unchanged.
    assert by_name(client, auth)["trip"]["file_count"] == 2
