"""fetch_url's network rules against real local servers: the connection goes to the address that
was checked (a second DNS answer cannot redirect it to the LAN), every address and every redirect
hop is checked, TLS still verifies the name, and one deadline ends a slow drip."""

import asyncio
import ipaddress
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from sage_sidecar.tools import web_fetch
from sage_sidecar.tools.base import ToolError
from sage_sidecar.tools.web_fetch import IPAddress, Network, fetch_text, is_public

PUBLIC = ipaddress.ip_address("127.0.0.1")  # what the tests' policy treats as the public web
LAN = ipaddress.ip_address("127.0.0.2")  # and as a private address (another loopback address)


class Site(ThreadingHTTPServer):
    """A tiny web server that says who it is and records the Host header of each request."""

    def __init__(self, address: tuple[str, int], body: str, content_type: str = "text/plain"):
        self.body = body.encode()
        self.content_type = content_type
        self.hosts: list[str] = []
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: Site

    def do_GET(self):  # noqa: N802 - http.server's naming
        self.server.hosts.append(self.headers.get("Host", ""))
        if self.path.startswith("/hop"):
            self.send_response(302)
            self.send_header("Location", self.path.removeprefix("/hop?to="))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", self.server.content_type)
        self.send_header("Content-Length", str(len(self.server.body)))
        self.end_headers()
        self.wfile.write(self.server.body)

    def log_message(self, *_args):
        pass


def serve(server: ThreadingHTTPServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread


@pytest.fixture
def sites() -> Iterator[tuple[Site, Site]]:
    """The 'public' page on 127.0.0.1 and a 'LAN' service on 127.0.0.2, on the same port."""
    public = Site((str(PUBLIC), 0), "the public page")
    lan = Site((str(LAN), public.server_port), "a LAN secret")
    threads = [serve(public), serve(lan)]
    yield public, lan
    for server, thread in zip((public, lan), threads, strict=True):
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class RebindingDns:
    """A name with TTL 0 whose first answer is public and every later one is the LAN address.
    The OS resolver is patched to give the later answer too, so anything that resolves the name
    again — httpx connecting by name included — gets the LAN address."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
        self.name = name
        self.calls = 0
        real = socket.getaddrinfo

        def getaddrinfo(host, port, *args, **kwargs):
            if host in (name, name.encode()):
                return real(str(LAN), port, *args, **kwargs)
            return real(host, port, *args, **kwargs)

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        assert host == self.name
        self.calls += 1
        return [PUBLIC] if self.calls == 1 else [LAN]


def only_public(address: IPAddress) -> bool:
    return address == PUBLIC


async def test_the_connection_goes_to_the_address_that_was_checked(sites, monkeypatch):
    public, lan = sites
    dns = RebindingDns(monkeypatch, "rebind.test")
    network = Network(resolve=dns.resolve, allowed=only_public)
    url = f"http://rebind.test:{public.server_port}/page"
    assert await fetch_text(url, network) == "the public page"
    assert dns.calls == 1  # resolved once, for the check and the connection
    assert public.hosts == [f"rebind.test:{public.server_port}"] and lan.hosts == []


async def test_a_redirect_is_resolved_and_checked_again(sites, monkeypatch):
    public, lan = sites
    dns = RebindingDns(monkeypatch, "rebind.test")
    network = Network(resolve=dns.resolve, allowed=only_public)
    port = public.server_port
    with pytest.raises(ToolError, match="rebind.test is a local or private address"):
        await fetch_text(f"http://rebind.test:{port}/hop?to=http://rebind.test:{port}/x", network)
    assert dns.calls == 2 and len(public.hosts) == 1 and lan.hosts == []


async def test_one_private_address_among_public_ones_is_refused(sites):
    public, lan = sites
    seen: list[str] = []

    async def public_first_then_private(host: str, port: int) -> list[IPAddress]:
        seen.append(host)
        return [ipaddress.ip_address("93.184.215.14"), LAN]

    network = Network(resolve=public_first_then_private)  # the real policy: is_public
    with pytest.raises(ToolError, match="local or private"):
        await fetch_text(f"http://mixed.test:{public.server_port}/", network)
    assert seen == ["mixed.test"] and public.hosts == lan.hosts == []


@pytest.mark.parametrize(
    ("address", "public"),
    [("93.184.215.14", True), ("2606:4700::1111", True), ("127.0.0.1", False), ("10.1.2.3", False),
     ("100.64.0.1", False), ("169.254.169.254", False), ("::1", False), ("fe80::1", False),
     ("fd00::1", False), ("::ffff:127.0.0.1", False), ("::ffff:10.0.0.1", False),
     ("64:ff9b::a00:1", False), ("64:ff9b::5db8:d70e", True), ("224.0.0.1", False),
     ("0.0.0.0", False)],
)  # fmt: skip
def test_what_counts_as_public(address, public):
    assert is_public(ipaddress.ip_address(address)) is public


@pytest.fixture
def tls_site(tmp_path: Path) -> Iterator[tuple[Site, ssl.SSLContext, list[str]]]:
    """An HTTPS server on 127.0.0.1 whose certificate names only `pinned.test`; it records the
    TLS server name (SNI) each client asked for."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=pinned.test",
         "-addext", "subjectAltName=DNS:pinned.test"],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    names: list[str] = []
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)

    def record_name(_sock: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
        names.append(name or "")

    server_context.sni_callback = record_name
    site = Site((str(PUBLIC), 0), "over TLS")
    site.socket = server_context.wrap_socket(site.socket, server_side=True)
    thread = serve(site)
    yield site, ssl.create_default_context(cafile=str(cert)), names
    site.shutdown()
    site.server_close()
    thread.join(timeout=5)


async def test_tls_verifies_the_name_while_connecting_to_the_checked_address(tls_site):
    site, trust, names = tls_site
    calls: list[str] = []

    async def resolve(host: str, port: int) -> list[IPAddress]:
        calls.append(host)
        return [PUBLIC]

    network = Network(resolve=resolve, allowed=only_public, verify=trust)
    assert await fetch_text(f"https://pinned.test:{site.server_port}/", network) == "over TLS"
    assert names == ["pinned.test"] and site.hosts == [f"pinned.test:{site.server_port}"]
    assert calls == ["pinned.test"]


class DripServer:
    """Answers every connection one byte at a time, forever: in the headers or in the body."""

    def __init__(self, where: str, interval: float = 0.2) -> None:
        self.where, self.interval = where, interval
        self.stop = threading.Event()
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)
            if self.where == "body":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                             b"Content-Length: 100000\r\n\r\n")  # fmt: skip
            while not self.stop.wait(self.interval):
                try:
                    conn.sendall(b"x")  # a header line or the body, never finished
                except OSError:
                    return

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        self.sock.close()


@pytest.mark.parametrize("where", ["headers", "body"])
async def test_a_slow_drip_is_cut_off_at_the_deadline(where, monkeypatch):
    """Each byte comes well within the per-read timeout; only a deadline on the whole fetch
    ends it."""
    monkeypatch.setenv("SAGE_FETCH_ALLOW_PRIVATE", "1")
    drip = DripServer(where)
    try:
        started = time.monotonic()
        with pytest.raises(ToolError, match=r"did not arrive within 1\.5 s"):
            # The outer limit only keeps a broken fetch from hanging the test run.
            await asyncio.wait_for(
                fetch_text(f"http://127.0.0.1:{drip.port}/", Network(deadline_s=1.5)), 20
            )
        assert time.monotonic() - started < 6  # a loaded CI machine; without a deadline: 20 s+
    finally:
        drip.close()


def test_the_tool_has_a_total_deadline_by_default():
    assert Network().deadline_s == web_fetch.DEADLINE_S <= 60


async def test_a_page_is_reduced_to_text_in_a_worker_process(monkeypatch):
    """BeautifulSoup on ~0.5 MB of markup held the event loop for 150-500 ms at a time from a
    thread (measured with a 1 ms ticker); a parse worker process does it instead, the one the
    chat engine gives every tool call. Proven by the sidecar's own html_to_text refusing to run."""
    from sage_sidecar.knowledge import page_text
    from sage_sidecar.services import page_reader
    from sage_sidecar.tools.base import ToolContext
    from sage_sidecar.tools.registry import BUILTIN_TOOLS

    def not_here(_html: str) -> str:
        raise AssertionError("HTML reduced in the sidecar's own process")

    monkeypatch.setattr(page_text, "html_to_text", not_here)
    monkeypatch.setenv("SAGE_FETCH_ALLOW_PRIVATE", "1")
    paragraphs = "".join(f"<p>line {i}</p>" for i in range(40_000)).encode()

    class BigPage(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(paragraphs)))
            self.end_headers()
            self.wfile.write(paragraphs)

        def log_message(self, *_args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), BigPage)
    thread = serve(server)
    ctx = ToolContext(agent_id="a", workspace=Path("/nonexistent"),
                      read_page=page_reader.read_page)  # fmt: skip
    try:
        url = f"http://127.0.0.1:{server.server_port}/"
        text = await BUILTIN_TOOLS["fetch_url"].run({"url": url}, ctx)
        pool = page_reader.pool()
        assert pool.started == 1 and len(pool.worker_pids()) == 1  # kept warm for the next page
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        await page_reader.close()
    assert text.startswith("line 0\nline 1\n") and len(text) == web_fetch.MAX_TEXT
    assert not pool.worker_pids()  # closed with the chat engine


async def test_without_a_page_reader_an_html_page_is_refused(monkeypatch):
    monkeypatch.setenv("SAGE_FETCH_ALLOW_PRIVATE", "1")
    site = Site(("127.0.0.1", 0), "<p>hello</p>", content_type="text/html")
    thread = serve(site)
    try:
        with pytest.raises(ToolError, match="no page reader"):
            await fetch_text(f"http://127.0.0.1:{site.server_port}/")
    finally:
        site.shutdown()
        site.server_close()
        thread.join(timeout=5)


def test_an_agent_reads_a_page_through_the_chat_engines_page_reader(
    client, auth, api_key, scripted, monkeypatch
):
    """The wiring: a reply's tool calls get the page reader, so a fetched page comes back as
    text (and its worker ends with the engine)."""
    import json

    from chat_client import add_scripted_provider, send_once

    monkeypatch.setenv("SAGE_FETCH_ALLOW_PRIVATE", "1")
    site = Site(("127.0.0.1", 0), "<h1>News</h1><script>x()</script><p>All quiet.</p>", "text/html")
    thread = serve(site)
    try:
        add_scripted_provider(client, auth, scripted)
        # The site is allowed up front: by default fetch_url asks before each new host.
        reader = {"name": "Reader", "tools": ["fetch_url"],
                  "capabilities": {"fetch_allow": ["127.0.0.1"]}}  # fmt: skip
        agent = client.post("/api/agents", json=reader, headers=auth).json()
        url = f"http://127.0.0.1:{site.server_port}/news"
        scripted.load([
            {"tool_calls": [{"id": "f1", "name": "fetch_url", "arguments": json.dumps({"url": url})}]},
            {"text": "Nothing happened."},
        ])  # fmt: skip
        _, frames = send_once(client, api_key, "news?", agentId=agent["id"])
    finally:
        site.shutdown()
        site.server_close()
        thread.join(timeout=5)
    result = next(f for f in frames if f["type"] == "tool.result")
    assert (result["content"], result["isError"]) == ("News\nAll quiet.", False)
    assert frames[-1]["type"] == "message.completed"
