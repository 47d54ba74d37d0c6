"""Hostile files against a real sidecar process: each fails with its reason while /api/health keeps
answering and a good file beside them gets ready; an attachment that cannot be read is refused
with the reason; deleting a file mid-parse kills its parse worker. The venv sidecar, and the
frozen build when there is one (its worker is `sage-sidecar --parse-worker`)."""

import http.client
import json
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path

import hostile_files as hostile
import pytest
from proc_tree import children_running

from sidecar_process import FROZEN, api_call, read_ready, sidecar_command, sidecar_env, wait_gone

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="/proc and RLIMIT_AS")
COMMANDS = [
    pytest.param(sidecar_command(), id="venv"),
    pytest.param([str(FROZEN)], id="frozen",
                 marks=pytest.mark.skipif(not FROZEN.exists(), reason="no frozen build")),
]  # fmt: skip


class Sidecar:
    def __init__(self, command: list[str], data_dir: Path, **env: str) -> None:
        self.env = sidecar_env(data_dir, **env)
        self.proc = subprocess.Popen(command, env=self.env, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)  # fmt: skip
        self.ready = read_ready(self.proc, timeout=60)
        self.key = self.env["SAGE_API_KEY"]

    def call(self, method: str, path: str, body: dict | None = None):
        return api_call(self.ready.port, self.key, method, path, body, timeout=60)

    def upload(self, path: str, name: str, data: bytes) -> tuple[int, dict]:
        boundary = secrets.token_hex(8)
        body = (f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"'
                "\r\nContent-Type: application/octet-stream\r\n\r\n").encode()  # fmt: skip
        body += data + f"\r\n--{boundary}--\r\n".encode()
        conn = http.client.HTTPConnection("127.0.0.1", self.ready.port, timeout=60)
        conn.request("POST", path, body=body, headers={
            "Authorization": f"Bearer {self.key}",
            "Content-Type": f"multipart/form-data; boundary={boundary}"})  # fmt: skip
        response = conn.getresponse()
        return response.status, json.loads(response.read())

    def parse_workers(self) -> list[int]:
        return children_running(self.proc.pid, b"parse_worker", b"--parse-worker")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class HealthProbe(threading.Thread):
    """GET /api/health back to back on one connection; the longest wait between answers."""

    def __init__(self, sidecar: Sidecar) -> None:
        super().__init__(daemon=True)
        self.sidecar, self.worst, self.count = sidecar, 0.0, 0
        self.stopping = threading.Event()

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.sidecar.ready.port, timeout=30)
        headers = {"Authorization": f"Bearer {self.sidecar.key}"}
        last = time.perf_counter()
        while not self.stopping.is_set():
            conn.request("GET", "/api/health", headers=headers)
            response = conn.getresponse()
            response.read()
            now = time.perf_counter()
            self.worst, self.count, last = max(self.worst, now - last), self.count + 1, now
            time.sleep(0.01)


def wait_done(sidecar: Sidecar, kb_id: str, timeout: float = 240) -> dict[str, dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        files = sidecar.call("GET", f"/api/knowledge/bases/{kb_id}/files")
        if files and all(f["status"] in ("ready", "failed") for f in files):
            return {f["name"]: f for f in files}
        time.sleep(0.2)
    raise AssertionError(f"not done in {timeout} s: {files}")


@pytest.mark.parametrize("command", COMMANDS)
def test_hostile_files_fail_with_reasons_while_health_answers(tmp_path: Path, command):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    expected_failures = {
        hostile.empty_paragraphs_docx(corpus / "empty-paragraphs.docx").name: "100,000 paragraphs",
        hostile.billion_laughs_docx(corpus / "laughs.docx").name: "declares entities",
        hostile.zip_bomb_docx(corpus / "bomb.docx", 300).name: "expands beyond 256 MB",
        hostile.many_pages_pdf(corpus / "pages.pdf").name: "more than 5,000 pages",
        # ~13 s of tree building here: stopped by the 4 s budget (a much faster machine may reach
        # the depth check first; the budget itself is tested in test_parse_worker.py)
        hostile.nested_html(corpus / "deep.html", 300_000).name: (
            "took longer than 4 s",
            "nested more than 512",
        ),
    }
    good = corpus / "lighthouses.txt"
    good.write_text("Lighthouses guide ships at night with a rotating light.\n")
    spaces = hostile.spaces_markdown(corpus / "spaces.md")  # once quadratic, now quick and valid
    sidecar = Sidecar(command, tmp_path / "data", SAGE_PARSE_TIMEOUT_S="4")
    probe = HealthProbe(sidecar)
    try:
        probe.start()
        kb = sidecar.call("POST", "/api/knowledge/bases", {"name": "Hostile"})
        paths = [str(corpus / name) for name in expected_failures] + [str(good), str(spaces)]
        sidecar.call("POST", f"/api/knowledge/bases/{kb['id']}/files/paths", {"paths": paths})
        status, refused = sidecar.upload("/api/attachments", "laughs.docx",
                                         (corpus / "laughs.docx").read_bytes())  # fmt: skip
        assert status == 422 and refused["code"] == "attachment.unreadable", refused
        assert "declares entities" in refused["params"]["reason"]
        status, accepted = sidecar.upload("/api/attachments", "note.txt", b"A short note.\n")
        assert status == 201 and accepted[0]["chars"] == 14, accepted
        files = wait_done(sidecar, kb["id"])
        for name, words in expected_failures.items():
            reasons = (words,) if isinstance(words, str) else words
            error = files[name]["error"] or ""
            assert files[name]["status"] == "failed", files[name]
            assert any(reason in error for reason in reasons), files[name]
        assert files[good.name]["status"] == "ready", files[good.name]
        assert files[spaces.name]["status"] == "ready", files[spaces.name]
    finally:
        probe.stopping.set()
        probe.join(timeout=30)
        sidecar.stop()
    assert probe.count > 50
    # The bench holds this to 100 ms on an idle machine; a loaded CI runner gets slack, but a
    # parse on the event loop (seconds) would still fail it.
    assert probe.worst < 1.0, f"/api/health waited {probe.worst:.2f} s"


@pytest.mark.parametrize("command", COMMANDS)
def test_deleting_a_file_mid_parse_kills_its_worker(tmp_path: Path, command):
    slow = hostile.nested_html(tmp_path / "deep.html", 400_000)  # ~15 s to parse
    sidecar = Sidecar(command, tmp_path / "data", SAGE_PARSE_TIMEOUT_S="120")
    try:
        kb = sidecar.call("POST", "/api/knowledge/bases", {"name": "Slow"})
        (added,) = sidecar.call("POST", f"/api/knowledge/bases/{kb['id']}/files/paths",
                                {"paths": [str(slow)]})  # fmt: skip
        deadline = time.monotonic() + 30
        while not (workers := sidecar.parse_workers()) and time.monotonic() < deadline:
            time.sleep(0.05)
        (worker,) = workers
        time.sleep(1.0)  # well into the parse
        file = sidecar.call("GET", f"/api/knowledge/bases/{kb['id']}/files")[0]
        assert file["status"] == "parsing", file
        conn = http.client.HTTPConnection("127.0.0.1", sidecar.ready.port, timeout=30)
        conn.request("DELETE", f"/api/knowledge/bases/{kb['id']}/files/{added['id']}",
                     headers={"Authorization": f"Bearer {sidecar.key}"})  # fmt: skip
        assert conn.getresponse().status == 204
        assert wait_gone(worker, 1.0), "the parse worker outlived its deleted file"
        assert sidecar.call("GET", f"/api/knowledge/bases/{kb['id']}/files") == []
        sidecar.call("GET", "/api/health")
    finally:
        sidecar.stop()
