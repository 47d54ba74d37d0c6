"""run_python (subprocess, limits, no secrets) and fetch_url (limits, no private addresses)."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sage_sidecar.knowledge.page_text import html_to_text
from sage_sidecar.services import page_reader
from sage_sidecar.tools import python_runner
from sage_sidecar.tools.base import ToolContext, ToolError
from sage_sidecar.tools.registry import BUILTIN_TOOLS


@pytest.fixture
def ctx(tmp_path) -> ToolContext:
    return ToolContext(agent_id="a1", workspace=tmp_path / "ws", read_page=page_reader.read_page)


async def run_python(code: str, ctx: ToolContext) -> str:
    return await BUILTIN_TOOLS["run_python"].run({"code": code}, ctx)


async def test_runs_code_in_the_workspace(ctx):
    result = await run_python("import os; print(6 * 7); open('out.txt', 'w').write('x')", ctx)
    assert result.startswith("exit code 0\n42")
    assert (ctx.workspace / "out.txt").read_text() == "x"


async def test_errors_and_exit_codes_come_back(ctx):
    result = await run_python("raise SystemExit(3)", ctx)
    assert result.startswith("exit code 3")
    crashed = await run_python("1/0", ctx)
    assert "ZeroDivisionError" in crashed and crashed.startswith("exit code 1")


async def test_secrets_are_not_inherited(ctx, monkeypatch):
    monkeypatch.setenv("SAGE_API_KEY", "a" * 64)
    result = await run_python("import os; print(sorted(k for k in os.environ if 'SAGE' in k))", ctx)
    assert "[]" in result and "a" * 64 not in result


async def test_timeout_kills_the_process_group(ctx, monkeypatch):
    monkeypatch.setattr(python_runner, "TIMEOUT_S", 0.5)
    code = "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)']); time.sleep(30)"
    with pytest.raises(ToolError, match="longer than"):
        await run_python(code, ctx)


async def test_output_is_capped(ctx):
    result = await run_python("print('x' * 50_000)", ctx)
    assert "output cut at 19500 characters" in result and len(result) < 20_000


class Pages(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's naming
        pages = {
            "/page": (200, "text/html", b"<html><head><style>p{}</style><script>evil()</script></head>"
                      b"<body><h1>Title</h1><p>Hello <b>web</b></p></body></html>"),
            "/big": (200, "text/plain", b"x" * 2_000_000),
            "/missing": (404, "text/plain", b"nope"),
        }  # fmt: skip
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/page")
            self.end_headers()
            return
        status, kind, body = pages.get(self.path, (404, "text/plain", b""))
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args):
        pass


@pytest.fixture(scope="module")
def site():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Pages)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


async def fetch(url: str, ctx) -> str:
    return await BUILTIN_TOOLS["fetch_url"].run({"url": url}, ctx)


async def test_private_addresses_are_refused_by_default(site, ctx):
    for url in (f"{site}/page", "http://localhost:1/", "http://10.0.0.1/", "http://[::1]/"):
        with pytest.raises(ToolError, match="local or private"):
            await fetch(url, ctx)
    with pytest.raises(ToolError, match="only http"):
        await fetch("file:///etc/passwd", ctx)


async def test_html_is_reduced_to_text_and_limits_hold(site, ctx, monkeypatch):
    monkeypatch.setenv("SAGE_FETCH_ALLOW_PRIVATE", "1")
    text = await fetch(f"{site}/page", ctx)
    assert text == "Title\nHello\nweb"
    assert await fetch(f"{site}/redirect", ctx) == text
    with pytest.raises(ToolError, match="larger than"):
        await fetch(f"{site}/big", ctx)
    with pytest.raises(ToolError, match="HTTP 404"):
        await fetch(f"{site}/missing", ctx)


def test_html_to_text_drops_scripts():
    assert "evil" not in html_to_text("<script>evil()</script><p>ok</p>")
