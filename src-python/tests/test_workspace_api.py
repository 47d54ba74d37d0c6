"""The Workspace API against the real app: every route refuses every way out of the workspace
(traversal, absolute paths, symlinks, Windows drive letters and reserved names, NUL bytes), the
size limit holds for uploads and the agent's file tool, the trash keeps and gives back, previews
are safe, and changes (the agent's writes included) are announced on /ws/events."""

import io
import os
import zipfile
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sage_sidecar.core.confinement import PathRefused, confine

from chat_client import ChatSocket, EventsSocket, add_scripted_provider

HOSTILE_PATHS = {
    "../outside.txt": "traversal",
    "notes/../../outside.txt": "traversal",
    "..": "traversal",
    "..\\outside.txt": "traversal",
    "/etc/passwd": "absolute",
    "\\\\server\\share\\x": "absolute",
    "C:\\Windows\\win.ini": "drive",
    "c:outside.txt": "drive",
    "CON": "reserved_name",
    "notes/nul.txt": "reserved_name",
    "com1": "reserved_name",
    "LPT9.log": "reserved_name",
    "trailing.": "trailing_dot",
    "trailing ": "trailing_dot",
    "file.txt:stream": "forbidden_character",
    "a\x00b.txt": "nul",
    "bad\nname": "control",
    "x" * 256: "too_long",
    "/".join(["y" * 200] * 6): "too_long",
    "link/secret.txt": "symlink",  # `link` points outside (made by the agent's tools)
    "inner-link": "symlink",  # points inside, but a link is never followed
}


@pytest.fixture
def agent(client: TestClient, auth) -> dict:
    return client.post("/api/agents", json={"name": "Files"}, headers=auth).json()


@pytest.fixture
def workspace(settings, agent, tmp_path) -> Path:
    """The agent's folder with a file, a folder, and two links its `run_python` could have made:
    one to a secret outside, one to a file inside."""
    root = settings.storage_dir / "workspaces" / agent["id"]
    (root / "notes").mkdir(parents=True)
    (root / "notes" / "todo.md").write_text("# Todo\n\n- buy milk\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("top secret")
    os.symlink(outside, root / "link")
    os.symlink(root / "notes" / "todo.md", root / "inner-link")
    return root


def url(agent: dict, route: str = "") -> str:
    return f"/api/workspaces/{agent['id']}{route}"


def upload(client, auth, agent, files, folder: str = ""):
    return client.post(url(agent, "/files"), params={"folder": folder}, headers=auth,
                       files=[("files", (name, data)) for name, data in files])  # fmt: skip


def upload_raw_name(client, auth, agent, name: str):
    """A multipart body whose filename is exactly `name` (quoted-pair escaped, NUL and all): an
    HTTP client would percent-encode some of it, a hostile one need not."""
    quoted = name.replace("\\", "\\\\").replace('"', '\\"').encode()
    body = (b'--b\r\nContent-Disposition: form-data; name="files"; filename="' + quoted
            + b'"\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--\r\n')  # fmt: skip
    headers = {**auth, "Content-Type": "multipart/form-data; boundary=b"}
    return client.post(url(agent, "/files"), content=body, headers=headers)


def reply_approving_everything(chat: ChatSocket, agent: dict, content: str) -> list[dict]:
    accepted = chat.request({"type": "chat.send", "content": content, "agentId": agent["id"]})
    frames = []
    while True:
        frame = chat.ws.receive_json()
        frames.append(frame)
        if frame["type"] == "tool.approval_required":
            chat.ws.send_json(
                {"type": "tool.approval", "callId": frame["callId"], "decision": "approve"}
            )
        if frame["type"] in ("message.completed", "message.failed"):
            assert frame["messageId"] == accepted["messageId"], frame
            return frames


def attempts(client: TestClient, auth: dict, agent: dict, path: str) -> dict[str, Any]:
    """The same hostile path through every route that takes one (called when run)."""
    return {
        "download": lambda: client.get(url(agent, "/download"), params={"path": path}, headers=auth),
        "raw": lambda: client.get(url(agent, "/raw"), params={"path": path}, headers=auth),
        "preview": lambda: client.get(url(agent, "/preview"), params={"path": path}, headers=auth),
        "folder": lambda: client.post(url(agent, "/folders"), json={"path": path}, headers=auth),
        "move from": lambda: client.post(url(agent, "/move"), headers=auth,
                                         json={"from_path": path, "to_path": "moved.txt"}),
        "move to": lambda: client.post(url(agent, "/move"), headers=auth,
                                       json={"from_path": "notes/todo.md", "to_path": path}),
        "delete": lambda: client.delete(url(agent, "/files"), params={"path": path}, headers=auth),
        "upload name": lambda: upload_raw_name(client, auth, agent, path),
        "upload folder": lambda: upload(client, auth, agent, [("ok.txt", b"x")], folder=path),
    }  # fmt: skip


def files_under(root: Path) -> list[Path]:
    """Everything under the test's folder but the stand-in for the OS keychain, which the app
    writes when it creates its secrets key — at a moment of its own, not the test's (a fresh-clone
    run saw it appear mid-test)."""
    return sorted(p.relative_to(root) for p in root.rglob("*") if p.name != "test-keychain.json")


@pytest.mark.parametrize("path", HOSTILE_PATHS)
def test_every_route_refuses_every_way_out(client, auth, agent, workspace, tmp_path, path):
    expected = HOSTILE_PATHS[path]
    before = files_under(tmp_path)
    for route, attempt in attempts(client, auth, agent, path).items():
        if path == "inner-link" and route in ("delete", "move from"):
            continue  # a link itself may be deleted or moved (below); its target is never touched
        response = attempt()
        if route == "upload name" and "\x00" in path:
            continue  # a NUL cannot be sent in a multipart filename; the folder case covers it
        assert response.status_code == 422, (route, response.status_code, response.text)
        body = response.json()
        assert body["code"] == "workspace.path_refused", (route, body)
        assert body["params"]["reason"] == expected, (route, body)
    assert (tmp_path / "outside" / "secret.txt").read_text() == "top secret"
    assert not (tmp_path / "outside.txt").exists()
    after = files_under(tmp_path)
    assert after == before  # nothing created, moved or removed anywhere


def test_a_link_is_listed_and_deleted_as_itself_never_followed(
    client, auth, agent, workspace, tmp_path
):
    listing = client.get(url(agent), headers=auth).json()
    kinds = {e["path"]: e["kind"] for e in listing["entries"]}
    assert kinds["link"] == "link" and kinds["inner-link"] == "link"
    assert not any(p.startswith("link/") for p in kinds)  # the outside folder is not walked
    response = client.delete(url(agent, "/files"), params={"path": "link"}, headers=auth)
    assert response.status_code == 200, response.text
    assert not (workspace / "link").is_symlink()
    assert (tmp_path / "outside" / "secret.txt").read_text() == "top secret"


def test_confine_is_the_one_check_for_tools_and_api(tmp_path):
    """The agent's file tool and the API share `confine`: same reasons from both."""
    from sage_sidecar.tools.base import ToolError
    from sage_sidecar.tools.workspace import confined

    for path, reason in HOSTILE_PATHS.items():
        if reason == "symlink":
            continue
        with pytest.raises(PathRefused) as refused:
            confine(tmp_path, path)
        assert refused.value.reason == reason
        with pytest.raises(ToolError):
            confined(tmp_path, path)


def test_tree_upload_folders_move_and_download(client, auth, agent, workspace):
    response = upload(client, auth, agent, [("photos/2024/a.txt", b"first"), ("b.csv", b"x,y\n1,2\n")],
                      folder="inbox")  # fmt: skip
    assert response.status_code == 201, response.text
    assert [e["path"] for e in response.json()] == ["inbox/photos/2024/a.txt", "inbox/b.csv"]
    assert (workspace / "inbox" / "photos" / "2024" / "a.txt").read_bytes() == b"first"

    made = client.post(url(agent, "/folders"), json={"path": "drafts/old"}, headers=auth)
    assert made.status_code == 201 and made.json()["kind"] == "folder"
    again = client.post(url(agent, "/folders"), json={"path": "drafts/old"}, headers=auth)
    assert (again.status_code, again.json()["code"]) == (409, "workspace.exists")

    moved = client.post(url(agent, "/move"), json={"from_path": "inbox/b.csv", "to_path": "drafts/data.csv"},
                        headers=auth)  # fmt: skip
    assert moved.status_code == 200 and moved.json()["path"] == "drafts/data.csv"
    into_itself = client.post(url(agent, "/move"), json={"from_path": "drafts", "to_path": "drafts/old/x"},
                              headers=auth)  # fmt: skip
    assert into_itself.json()["code"] == "workspace.into_itself"

    listing = client.get(url(agent), headers=auth).json()
    paths = [e["path"] for e in listing["entries"]]
    assert paths.index("drafts") < paths.index("drafts/data.csv")  # parents first
    assert listing["used_bytes"] == len(b"first") + len(b"x,y\n1,2\n") + len(
        "# Todo\n\n- buy milk\n"
    )

    download = client.get(url(agent, "/download"), params={"path": "drafts/data.csv"}, headers=auth)
    assert download.content == b"x,y\n1,2\n"
    assert download.headers["content-disposition"].startswith("attachment")
    folder = client.get(url(agent, "/download"), params={"path": "drafts"}, headers=auth)
    assert folder.json()["code"] == "workspace.not_a_file"
    missing = client.get(url(agent, "/download"), params={"path": "nope.txt"}, headers=auth)
    assert missing.status_code == 404


def test_an_unknown_agent_has_no_workspace(client, auth):
    response = client.get("/api/workspaces/not-an-agent", headers=auth)
    assert response.status_code == 404
    assert response.json()["params"]["what"] == "agent"


def test_trash_keeps_restores_and_empties(client, auth, agent, workspace, settings):
    deleted = client.delete(url(agent, "/files"), params={"path": "notes"}, headers=auth).json()
    assert deleted["path"] == "notes" and deleted["kind"] == "folder" and deleted["size"] > 0
    assert not (workspace / "notes").exists()
    trash = client.get(url(agent, "/trash"), headers=auth).json()
    assert [t["id"] for t in trash] == [deleted["id"]]
    # The trash is outside the workspace: the agent's tools cannot reach it.
    assert not str(settings.storage_dir / "workspace-trash").startswith(str(workspace))

    restored = client.post(url(agent, f"/trash/{deleted['id']}/restore"), headers=auth)
    assert restored.status_code == 200 and restored.json()["path"] == "notes"
    assert (workspace / "notes" / "todo.md").read_text().startswith("# Todo")
    assert client.get(url(agent, "/trash"), headers=auth).json() == []

    # Taken again: a conflict, and the trashed copy stays.
    first = client.delete(
        url(agent, "/files"), params={"path": "notes/todo.md"}, headers=auth
    ).json()
    (workspace / "notes" / "todo.md").write_text("new")
    conflict = client.post(url(agent, f"/trash/{first['id']}/restore"), headers=auth)
    assert (conflict.status_code, conflict.json()["code"]) == (409, "workspace.exists")
    assert client.get(url(agent), headers=auth).json()["trash_bytes"] > 0

    assert client.delete(url(agent, "/trash"), headers=auth).status_code == 204
    assert client.get(url(agent, "/trash"), headers=auth).json() == []
    bad = client.post(url(agent, "/trash/..%2F..%2Fx/restore"), headers=auth)
    assert bad.status_code == 404


@pytest.mark.settings(workspace_quota_mb=0.01)  # 10,485 bytes
def test_uploads_past_the_size_limit_are_refused_whole(client, auth, agent, workspace):
    response = upload(client, auth, agent, [("small.txt", b"a" * 100), ("big.bin", b"b" * 20_000)])
    assert response.status_code == 413
    body = response.json()
    assert body["code"] == "workspace.quota_exceeded"
    assert body["params"]["quota"] == int(0.01 * 2**20)
    assert not (workspace / "small.txt").exists() and not (workspace / "big.bin").exists()
    assert not any((workspace.parent.parent / "workspace-trash").rglob("*.part"))  # staging cleaned
    assert upload(client, auth, agent, [("fits.txt", b"c" * 5_000)]).status_code == 201
    # A declared length far past the room is refused before the body is read.
    huge = upload(client, auth, agent, [("huge.bin", b"h" * 200_000)])
    assert huge.json()["code"] == "workspace.quota_exceeded"
    assert huge.json()["params"]["adding"] > 200_000  # the declared length: nothing was read


@pytest.mark.settings(workspace_quota_mb=0.01)
def test_the_agents_file_tool_meets_the_same_limit(client, auth, api_key, scripted, settings):
    provider = add_scripted_provider(client, auth, scripted)
    agent = client.post("/api/agents", json={"name": "W", "provider_id": provider["id"],
                        "tools": ["write_file"]}, headers=auth).json()  # fmt: skip
    big = '{"path": "big.txt", "content": "' + "x" * 20_000 + '"}'
    small = '{"path": "small.txt", "content": "hello"}'
    scripted.load([{"tool_calls": [{"id": "w1", "name": "write_file", "arguments": big}]},
                   {"tool_calls": [{"id": "w2", "name": "write_file", "arguments": small}]},
                   {"text": "done"}])  # fmt: skip
    with ChatSocket(client, api_key) as chat:
        frames = reply_approving_everything(chat, agent, "write")
    first = next(f for f in frames if f["type"] == "tool.result" and f["callId"] == "w1")
    assert first["isError"] and "workspace is full" in first["content"]
    root = settings.storage_dir / "workspaces" / agent["id"]
    assert not (root / "big.txt").exists()
    assert (root / "small.txt").read_text() == "hello"


def test_changes_and_the_agents_writes_are_announced(client, auth, api_key, scripted, settings):
    provider = add_scripted_provider(client, auth, scripted)
    agent = client.post("/api/agents", json={"name": "W", "provider_id": provider["id"],
                        "tools": ["write_file"]}, headers=auth).json()  # fmt: skip
    with EventsSocket(client, api_key) as events:
        upload(client, auth, agent, [("a.txt", b"x")])
        event = events.next_of("workspace.changed")
        assert (event["agentId"], event["action"], event["path"], event["by"]) == (
            agent["id"], "uploaded", "a.txt", "user")  # fmt: skip
        client.post(
            url(agent, "/move"), json={"from_path": "a.txt", "to_path": "b.txt"}, headers=auth
        )
        event = events.next_of("workspace.changed")
        assert (event["action"], event["path"], event["toPath"]) == ("moved", "a.txt", "b.txt")

        scripted.load([{"tool_calls": [{"id": "w1", "name": "write_file",
                                        "arguments": '{"path": "out/report.md", "content": "# R"}'}]},
                       {"text": "done"}])  # fmt: skip
        with ChatSocket(client, api_key) as chat:
            reply_approving_everything(chat, agent, "go")
        event = events.next_of("workspace.changed")
        assert (event["action"], event["path"], event["by"]) == (
            "written",
            "out/report.md",
            "agent",
        )


HOSTILE_HTML = b"""<!doctype html><html><head><script>fetch('http://127.0.0.1:9/x')</script></head>
<body onload="alert(1)"><img src="http://127.0.0.1:9/pixel.png"><p>hello</p></body></html>"""


def _docx(text: str) -> bytes:
    body = f'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:body></w:document>'  # noqa: E501
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        )  # noqa: E501
        archive.writestr(
            "_rels/.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
        )  # noqa: E501
        archive.writestr("word/document.xml", body)
    return buffer.getvalue()


def test_previews_say_what_to_show_and_raw_files_are_inert(client, auth, agent, workspace):
    files = [("page.html", HOSTILE_HTML), ("code.py", b"print('hi')\n"), ("data.csv", b"a,b\n1,2\n"),
             ("photo.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20), ("blob.bin", b"\x00\x01\x02\xff"),
             ("plain", "h\u00e9llo".encode()), ("letter.docx", _docx("Dear reader"))]  # fmt: skip
    assert upload(client, auth, agent, files).status_code == 201

    def preview(path: str) -> dict:
        response = client.get(url(agent, "/preview"), params={"path": path}, headers=auth)
        assert response.status_code == 200, response.text
        return response.json()

    assert preview("notes/todo.md")["preview"] == "markdown"
    code = preview("code.py")
    assert (code["preview"], code["language"], code["text"]) == ("code", "python", "print('hi')\n")
    assert preview("data.csv")["table"]["rows"] == [["a", "b"], ["1", "2"]]
    assert preview("photo.png")["preview"] == "image"
    binary = preview("blob.bin")
    assert binary["preview"] == "binary" and binary["text"] is None and binary["size"] == 4
    assert preview("plain")["preview"] == "text"
    html = preview("page.html")
    assert html["preview"] == "html" and html["text"] is None  # the UI fetches /raw
    docx = preview("letter.docx")
    assert docx["preview"] == "docx" and "Dear reader" in docx["text"]

    raw = client.get(url(agent, "/raw"), params={"path": "page.html"}, headers=auth)
    csp = raw.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "sandbox" in csp and "script-src" not in csp
    assert raw.headers["x-content-type-options"] == "nosniff"
    assert raw.headers["content-type"].startswith("text/html")


def test_large_text_previews_are_cut_and_downloads_stream(client, auth, agent, workspace):
    (workspace / "big.log").write_bytes(b"line\n" * 200_000)  # 1 MB
    preview = client.get(url(agent, "/preview"), params={"path": "big.log"}, headers=auth).json()
    assert preview["truncated"] and len(preview["text"]) == 256 * 1024
    with client.stream(
        "GET", url(agent, "/download"), params={"path": "big.log"}, headers=auth
    ) as response:
        assert sum(len(chunk) for chunk in response.iter_bytes()) == 1_000_000


async def test_a_python_run_announces_that_the_workspace_may_have_changed(tmp_path):
    """run_python can write any file: the screen hears of it (path None) however the run ends."""
    from sage_sidecar.tools.base import ToolContext, WorkspaceHooks
    from sage_sidecar.tools.python_runner import RUN_PYTHON

    heard: list[tuple[str, str | None]] = []
    hooks = WorkspaceHooks(written=lambda agent, path: heard.append((agent, path)))
    ctx = ToolContext(agent_id="a1", workspace=tmp_path / "ws", hooks=hooks)
    await RUN_PYTHON.run({"code": "open('made.txt', 'w').write('x')"}, ctx)
    assert heard == [("a1", None)] and (tmp_path / "ws" / "made.txt").exists()
    await RUN_PYTHON.run({"code": "raise SystemExit(3)"}, ctx)
    assert heard == [("a1", None), ("a1", None)]


async def test_links_the_agents_own_script_makes_lead_nowhere(
    client, auth, agent, settings, tmp_path
):
    """run_python (the real tool, contained as in a chat) makes links out of the workspace; neither
    the API nor the agent's file tools follow them, and deleting one leaves its target alone."""
    from sage_sidecar.tools.base import ToolContext, ToolError
    from sage_sidecar.tools.python_runner import RUN_PYTHON
    from sage_sidecar.tools.registry import BUILTIN_TOOLS

    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    root = settings.storage_dir / "workspaces" / agent["id"]
    ctx = ToolContext(agent_id=agent["id"], workspace=root)
    code = (
        f"import os\nos.symlink('/etc', 'etc-link')\nos.symlink({str(secret)!r}, 'secret-link')\n"
    )
    result = await RUN_PYTHON.run({"code": code}, ctx)
    assert result.startswith("exit code 0"), result
    assert (root / "secret-link").is_symlink()

    for path in ("etc-link/passwd", "secret-link"):
        for route in ("/download", "/raw", "/preview"):
            response = client.get(url(agent, route), params={"path": path}, headers=auth)
            assert response.json()["params"]["reason"] == "symlink", (route, path)
        with pytest.raises(ToolError):
            await BUILTIN_TOOLS["read_file"].run({"path": path}, ctx)
    with pytest.raises(ToolError):
        await BUILTIN_TOOLS["write_file"].run({"path": "secret-link", "content": "pwned"}, ctx)
    assert (
        client.delete(
            url(agent, "/files"), params={"path": "secret-link"}, headers=auth
        ).status_code
        == 200
    )
    assert secret.read_text() == "top secret"
