"""Settings → Network against real loopback servers: a provider call goes through a custom HTTP
proxy (counted there), a dead proxy is reported as the proxy's fault, a TLS server signed by a
test-made CA is trusted only once that CA is added (directly and through the proxy's CONNECT),
fetch_url goes through the proxy, and the settings are checked and kept with the password
write-only."""

import asyncio
import ipaddress
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from network_servers import Proxy, Socks5Proxy, TestCa, TlsSite
from test_web_fetch import Site, serve

from sage_sidecar.core import network, redaction
from sage_sidecar.tools.base import ToolError
from sage_sidecar.tools.web_fetch import Network, fetch_text


@pytest.fixture(autouse=True)
def system_network_after() -> Iterator[None]:
    """The profile is process-wide: leave the default for the tests that follow."""
    yield
    network.activate(network.system_profile())


@pytest.fixture
def proxy() -> Iterator[Proxy]:
    with Proxy() as running:
        yield running


@pytest.fixture(scope="module")
def ca() -> TestCa:
    return TestCa()


def dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again: nothing listens there


def set_network(client: TestClient, auth, **body) -> dict:
    response = client.put("/api/network", json=body, headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


def provider_verdict(client: TestClient, auth, base_url: str) -> dict:
    body = {"name": "P", "kind": "openai", "base_url": base_url, "api_key": "k"}
    provider = client.post("/api/providers", json=body, headers=auth).json()
    return client.post(f"/api/providers/{provider['id']}/test", headers=auth).json()


def test_a_provider_call_goes_through_the_custom_proxy(client: TestClient, auth, scripted, proxy):
    assert provider_verdict(client, auth, scripted.base_url)["ok"]
    assert proxy.forwards == []  # the system default here: no proxy in the environment
    set_network(client, auth, mode="custom", proxy_url=f"http://127.0.0.1:{proxy.port}", bypass=[])
    verdict = provider_verdict(client, auth, scripted.base_url)
    assert verdict["ok"] and verdict["models"] == ["scripted-1"]
    assert proxy.forwards == [f"{scripted.base_url}/models"]
    # Loopback is on the default bypass list: a local model server is reached directly.
    set_network(client, auth, mode="custom", proxy_url=f"http://127.0.0.1:{proxy.port}")
    assert provider_verdict(client, auth, scripted.base_url)["ok"]
    assert len(proxy.forwards) == 1


def test_a_socks5_proxy_carries_a_provider_call(client: TestClient, auth, scripted):
    with Socks5Proxy() as socks:
        set_network(client, auth, mode="custom", proxy_url=f"socks5://127.0.0.1:{socks.port}",
                    bypass=[])  # fmt: skip
        assert provider_verdict(client, auth, scripted.base_url)["models"] == ["scripted-1"]
        assert socks.connects == [f"127.0.0.1:{scripted.port}"]


@pytest.fixture
def http_mcp() -> Iterator[str]:
    """The echo MCP server over streamable HTTP on loopback (tests/fixtures)."""
    port = dead_port()
    server = Path(__file__).parent / "fixtures" / "mcp_echo_server.py"
    proc = subprocess.Popen([sys.executable, str(server), "--http", str(port)])
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with socket.socket() as conn:
                if conn.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        proc.wait(10)


def test_an_mcp_server_over_http_is_reached_through_the_proxy(
    client: TestClient, auth, proxy, http_mcp
):
    set_network(client, auth, mode="custom", proxy_url=f"http://127.0.0.1:{proxy.port}", bypass=[])
    body = {"name": "remote", "transport": "http", "url": http_mcp, "trusted": True,
            "headers": {"Authorization": "Bearer fixture-token"}}  # fmt: skip
    server = client.post("/api/mcp-servers", json=body, headers=auth).json()
    listing = client.get(f"/api/mcp-servers/{server['id']}/tools", headers=auth).json()
    assert listing["ok"] is True, listing
    assert proxy.forwards and all(f.startswith(http_mcp) for f in proxy.forwards)


def test_a_dead_proxy_is_reported_as_the_proxys_fault(client: TestClient, auth, scripted):
    port = dead_port()
    set_network(client, auth, mode="custom", proxy_url=f"http://127.0.0.1:{port}", bypass=[])
    verdict = provider_verdict(client, auth, scripted.base_url)
    assert verdict["verdict"] == "proxy_unreachable", verdict
    assert f"127.0.0.1:{port}" in verdict["message"]
    checked = client.post("/api/network/check", json={"url": scripted.base_url}, headers=auth)
    assert checked.status_code == 502
    assert checked.json()["code"] == "network.proxy_unreachable"
    assert checked.json()["params"] == {"proxy": f"http://127.0.0.1:{port}"}
    # Without the proxy, the same provider answers.
    set_network(client, auth, mode="direct")
    assert provider_verdict(client, auth, scripted.base_url)["ok"]


def test_a_private_ca_is_trusted_only_once_added(client: TestClient, auth, ca, proxy):
    with TlsSite(ca) as site:
        url = f"https://127.0.0.1:{site.port}/v1"
        untrusted = provider_verdict(client, auth, url)
        assert untrusted["verdict"] == "unreachable" and site.requests == 0
        checked = client.post("/api/network/check", json={"url": url}, headers=auth)
        assert checked.json()["code"] == "network.tls_untrusted"
        saved = set_network(client, auth, mode="system", extra_ca_pem=ca.pem)
        assert saved["certificates"][0]["subject"] == "CN=Sage Test CA"
        assert provider_verdict(client, auth, url)["models"] == ["tls-model"]
        # Through the proxy: a CONNECT tunnel, the certificate still checked end to end.
        set_network(client, auth, mode="custom", proxy_url=f"http://127.0.0.1:{proxy.port}",
                    bypass=[], extra_ca_pem=ca.pem)  # fmt: skip
        assert provider_verdict(client, auth, url)["ok"]
        assert proxy.connects == [f"127.0.0.1:{site.port}"]
        check = client.post("/api/network/check", json={"url": url}, headers=auth).json()
        assert check == {"ok": True, "status": 200, "proxy": f"http://127.0.0.1:{proxy.port}"}
        set_network(client, auth, mode="custom", proxy_url=f"http://127.0.0.1:{proxy.port}",
                    bypass=[])  # fmt: skip
        assert provider_verdict(client, auth, url)["verdict"] == "unreachable"


def test_a_ca_from_a_file_is_read(client: TestClient, auth, ca, tmp_path):
    pem = tmp_path / "corp-ca.pem"
    pem.write_text(ca.pem)
    saved = set_network(client, auth, extra_ca_path=str(pem))
    assert saved["certificates"] == [
        {"subject": "CN=Sage Test CA", "not_after": ca.cert.not_valid_after_utc.date().isoformat(),
         "source": "file"}]  # fmt: skip
    with TlsSite(ca) as site:
        assert provider_verdict(client, auth, f"https://127.0.0.1:{site.port}/v1")["ok"]
    missing = client.put("/api/network", json={"extra_ca_path": str(tmp_path / "nope.pem")},
                         headers=auth)  # fmt: skip
    assert missing.status_code == 422 and missing.json()["code"] == "network.ca_file_unreadable"


def test_settings_are_checked_and_the_password_is_write_only(client: TestClient, auth):
    bad_pem = client.put("/api/network", json={"extra_ca_pem": "not a certificate"}, headers=auth)
    assert bad_pem.status_code == 422 and bad_pem.json()["code"] == "network.ca_invalid"
    for url in ("ftp://proxy:21", "http://", "proxy.example:8080", None):
        bad = client.put("/api/network", json={"mode": "custom", "proxy_url": url}, headers=auth)
        assert bad.status_code == 422, url
        assert bad.json()["code"] in ("network.proxy_url_invalid", "request.invalid"), url
    assert client.get("/api/network", headers=auth).json()["mode"] == "system"  # nothing kept

    secret = "s3cret-pass"
    saved = set_network(client, auth, mode="custom",
                        proxy_url=f"socks5://ann:{secret}@127.0.0.1:1080")  # fmt: skip
    assert saved["proxy_url"] == "socks5://ann:***@127.0.0.1:1080"
    assert secret not in client.get("/api/network", headers=auth).text
    assert secret not in redaction.KNOWN.redactor().text(f"via {secret}")  # and not in the log
    # Sent back as shown (another field changed), the saved password stays.
    set_network(client, auth, mode="custom", proxy_url=saved["proxy_url"], bypass=["intranet"])
    assert network.current().proxy_url == f"socks5://ann:{secret}@127.0.0.1:1080"
    assert network.current().proxy_for(httpx.URL("https://wiki.intranet/")) is None


def test_the_proxy_password_is_sealed_in_the_database_and_read_back_at_start(
    settings, auth, monkeypatch
):
    """Like provider keys: with a keychain the database file never holds the password in plain
    text, and the next start puts it back in force."""
    from sage_sidecar.app import create_app

    from conftest import TEST_ORIGIN, slow_keychain

    def make_client() -> TestClient:
        return TestClient(create_app(settings), base_url=TEST_ORIGIN)

    secret = "pr0xy-pass-7c1e"
    with make_client() as client:
        set_network(client, auth, mode="custom",
                    proxy_url=f"http://ann:{secret}@127.0.0.1:3128")  # fmt: skip
        assert network.current().proxy_url == f"http://ann:{secret}@127.0.0.1:3128"
    assert secret.encode() not in b"".join(
        p.read_bytes() for p in settings.data_dir.glob("agent_platform.db*")
    )
    network.activate(network.system_profile())  # forget what is in force
    slow_keychain(monkeypatch)  # the key arrives after the settings are read unless awaited
    with make_client():
        assert network.current().proxy_url == f"http://ann:{secret}@127.0.0.1:3128"


def test_the_system_proxy_comes_from_the_environment_and_skips_loopback(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://corp-proxy:3128")
    monkeypatch.setenv("NO_PROXY", "internal.example")
    monkeypatch.delenv("HTTP_PROXY", raising=False)
    monkeypatch.delenv("ALL_PROXY", raising=False)
    profile = network.system_profile()
    assert profile.proxy_for(httpx.URL("https://api.openai.com/v1")) == "http://corp-proxy:3128"
    assert profile.proxy_for(httpx.URL("https://docs.internal.example/")) is None
    assert profile.proxy_for(httpx.URL("https://127.0.0.1:11434/")) is None
    assert profile.proxy_for(httpx.URL("http://localhost:1234/")) is None


def test_fetch_url_goes_through_the_proxy_and_still_checks_the_address():
    site = Site(("127.0.0.1", 0), "hello through the proxy")
    serve(site)
    public = ipaddress.ip_address("93.184.216.34")

    async def resolve_public(host: str, port: int):
        return [public]

    try:
        with Proxy(hosts={"example.test": site.server_address[1]}) as proxy:
            network.activate(network.NetworkProfile(
                mode="custom", proxy_url=f"http://127.0.0.1:{proxy.port}", bypass=()))  # fmt: skip
            text = asyncio.run(
                fetch_text("http://example.test/page", Network(resolve=resolve_public))
            )
            assert text == "hello through the proxy"
            assert proxy.forwards == ["http://example.test/page"]
            assert site.hosts == ["example.test"]

            async def resolve_private(host: str, port: int):
                return [ipaddress.ip_address("10.0.0.5")]

            with pytest.raises(ToolError, match="private address"):
                asyncio.run(
                    fetch_text("http://example.test/page", Network(resolve=resolve_private))
                )
            assert len(proxy.forwards) == 1
    finally:
        site.shutdown()
        site.server_close()
