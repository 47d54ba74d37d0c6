"""The web_search tool against a scripted search server on loopback, in each backend's answer
shape (SearXNG's JSON, Brave's, Tavily's): what is sent (query, key header), what the model gets
(numbered title, URL, snippet), failures said plainly, the key write-only, and in a reply the
search API's host under the domain limits and its results tainting the reply like a fetched page."""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from test_capabilities import call, prompts, results, run

from sage_sidecar.tools import web_search

from chat_client import ChatSocket, add_scripted_provider

SEARXNG = {"results": [
    {"title": "Sage &amp; friends", "url": "https://sage.example/a", "content": "First <b>hit</b>."},
    {"title": "Not a page", "url": "javascript:alert(1)", "content": "dropped"},
    {"title": "Second", "url": "https://sage.example/b", "content": "Second hit."},
]}  # fmt: skip
BRAVE = {"web": {"results": [
    {"title": "Brave one", "url": "https://brave.example/1",
     "description": "The <strong>first</strong> result"},
]}}  # fmt: skip
TAVILY = {"results": [{"title": "Tavily one", "url": "https://tavily.example/1",
                       "content": "From Tavily", "score": 0.9}]}  # fmt: skip


class SearchServer(ThreadingHTTPServer):
    """Answers like SearXNG on GET /search, Brave on GET /res/v1/web/search and Tavily on
    POST /search; `status` forces an error; every request is kept."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[dict[str, Any]] = []
        self.status = 200

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: SearchServer

    def _answer(self, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(self.server.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        url = urlsplit(self.path)
        self.server.requests.append({"method": "GET", "path": url.path,
                                     "query": parse_qs(url.query), "headers": dict(self.headers)})  # fmt: skip
        self._answer(BRAVE if url.path == "/res/v1/web/search" else SEARXNG)

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append({"method": "POST", "path": self.path, "body": body,
                                     "headers": dict(self.headers)})  # fmt: skip
        self._answer(TAVILY)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def search_server() -> Iterator[SearchServer]:
    server = SearchServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        web_search.configure(web_search.SearchConfig())  # process-wide: off for later tests


def configure(client: TestClient, auth, **body: Any) -> dict:
    response = client.put("/api/web-search", json=body, headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


def test_searxng_results_are_numbered_with_title_url_and_snippet(client, auth, search_server):
    saved = configure(client, auth, backend="searxng", searxng_url=search_server.base + "/",
                      max_results=5)  # fmt: skip
    assert saved["endpoint_host"] == "127.0.0.1" and saved["has_api_key"] is False
    found = client.post("/api/web-search/test", json={"query": "sage desktop"}, headers=auth)
    assert found.json()["results"] == [
        {"title": "Sage & friends", "url": "https://sage.example/a", "snippet": "First hit."},
        {"title": "Second", "url": "https://sage.example/b", "snippet": "Second hit."},
    ]
    request = search_server.requests[-1]
    assert request["path"] == "/search"
    assert request["query"] == {"q": ["sage desktop"], "format": ["json"]}
    text = web_search.format_results("q", [web_search.SearchResult("T", "https://x.example", "S")])
    assert "[1] T\nhttps://x.example\nS" in text and "untrusted" in text


def test_brave_sends_the_key_as_its_header_and_never_shows_it(client, auth, search_server):
    key = "BSA-secret-key-123"
    configure(client, auth, backend="brave", api_key=key,
              api_url=search_server.base + "/res/v1/web/search", max_results=3)  # fmt: skip
    found = client.post("/api/web-search/test", json={"query": "brave"}, headers=auth).json()
    assert found["results"] == [{"title": "Brave one", "url": "https://brave.example/1",
                                 "snippet": "The first result"}]  # fmt: skip
    request = search_server.requests[-1]
    assert request["headers"]["X-Subscription-Token"] == key
    assert request["query"] == {"q": ["brave"], "count": ["3"]}
    shown = client.get("/api/web-search", headers=auth)
    assert shown.json()["has_api_key"] is True and key not in shown.text
    # Saved again without a key: kept. With an empty one: cleared, and Brave then refuses.
    configure(client, auth, backend="brave", api_url=search_server.base + "/res/v1/web/search")
    assert client.get("/api/web-search", headers=auth).json()["has_api_key"] is True
    cleared = client.put("/api/web-search", json={"backend": "brave", "api_key": ""}, headers=auth)
    assert cleared.status_code == 422 and cleared.json()["code"] == "web_search.needs_key"


def test_the_sealed_key_is_read_back_at_the_next_start(settings, auth, search_server, monkeypatch):
    """The key is sealed in app_meta; the next start must wait for the keychain's key before it
    opens it (no provider secret makes the start wait), or the key would read as lost."""
    from sage_sidecar.app import create_app

    from conftest import TEST_ORIGIN, slow_keychain

    key = "BSA-kept-across-starts"
    url = search_server.base + "/res/v1/web/search"
    with TestClient(create_app(settings), base_url=TEST_ORIGIN) as client:
        configure(client, auth, backend="brave", api_key=key, api_url=url)
    assert key.encode() not in b"".join(
        p.read_bytes() for p in settings.data_dir.glob("agent_platform.db*")
    )
    web_search.configure(web_search.SearchConfig())  # forget what is in force
    slow_keychain(monkeypatch)  # the key arrives after the settings are read unless awaited
    with TestClient(create_app(settings), base_url=TEST_ORIGIN) as client:
        assert client.get("/api/web-search", headers=auth).json()["has_api_key"] is True
        client.post("/api/web-search/test", json={"query": "again"}, headers=auth)
    assert search_server.requests[-1]["headers"]["X-Subscription-Token"] == key


def test_tavily_posts_the_query_with_a_bearer_key(client, auth, search_server):
    configure(client, auth, backend="tavily", api_key="tvly-abc",
              api_url=search_server.base + "/search", max_results=2)  # fmt: skip
    found = client.post("/api/web-search/test", json={"query": "tavily"}, headers=auth).json()
    assert found["results"] == [{"title": "Tavily one", "url": "https://tavily.example/1",
                                 "snippet": "From Tavily"}]  # fmt: skip
    request = search_server.requests[-1]
    assert request["body"] == {"query": "tavily", "max_results": 2}
    assert request["headers"]["Authorization"] == "Bearer tvly-abc"


def test_failures_are_said_plainly(client, auth, search_server):
    off = client.post("/api/web-search/test", json={"query": "x"}, headers=auth)
    assert off.status_code == 502 and "not set up" in off.json()["params"]["reason"]
    no_url = client.put("/api/web-search", json={"backend": "searxng"}, headers=auth)
    assert no_url.status_code == 422 and no_url.json()["code"] == "web_search.needs_url"
    configure(client, auth, backend="searxng", searxng_url=search_server.base)
    search_server.status = 403  # an instance without format=json enabled
    refused = client.post("/api/web-search/test", json={"query": "x"}, headers=auth)
    assert refused.json()["code"] == "web_search.failed"
    assert "format=json" in refused.json()["params"]["reason"]


@pytest.fixture
def chat(client: TestClient, api_key) -> Iterator[ChatSocket]:
    with ChatSocket(client, api_key) as socket:
        yield socket


@pytest.fixture
def make_agent(client: TestClient, auth, scripted):
    provider = add_scripted_provider(client, auth, scripted)

    def make(tools: list[str], **capabilities: object) -> dict:
        body = {"name": "Searcher", "provider_id": provider["id"], "tools": tools,
                "capabilities": capabilities}  # fmt: skip
        response = client.post("/api/agents", json=body, headers=auth)
        assert response.status_code == 201, response.text
        return response.json()

    return make


def test_in_a_reply_the_search_host_is_limited_and_results_taint_it(
    chat, client, auth, scripted, make_agent, search_server
):
    configure(client, auth, backend="searxng", searxng_url=search_server.base)
    denied = make_agent(["web_search"], fetch_deny=["127.0.0.1"])
    frames = run(chat, scripted, denied, [
        {"tool_calls": [call("s0", "web_search", query="sage")]}, {"text": "ok"}], {})  # fmt: skip
    assert "capability.domain_blocked" in results(frames)["s0"]["content"]
    assert search_server.requests == []

    agent = make_agent(["web_search", "write_file"])
    write = call("w1", "write_file", path="notes.txt", content="x")
    run(chat, scripted, agent, [{"tool_calls": [write]}, {"text": "ok"}], {"w1": "always"})
    frames = run(chat, scripted, agent, [
        {"tool_calls": [call("s1", "web_search", query="sage")]},
        {"tool_calls": [call("w2", "write_file", path="notes.txt", content="y")]},
        {"text": "ok"},
    ], {"s1": "approve"})  # fmt: skip
    assert prompts(frames)["s1"]["reasonParams"] == {"domain": "127.0.0.1"}  # asked, like a fetch
    assert "[1] Sage & friends\nhttps://sage.example/a" in results(frames)["s1"]["content"]
    asked = prompts(frames)["w2"]  # although "always" stands for write_file
    assert (asked["reason"], asked["reasonParams"]) == ("tainted", {"source": "fetched_page"})
    # The model saw the results in its next request.
    sent = scripted.recorded()[1]["messages"]
    assert any("https://sage.example/b" in str(m.get("content")) for m in sent)
