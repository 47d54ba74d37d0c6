"""How the sidecar reaches the network: through the system's proxy (the default), a proxy the
user set (HTTP, HTTPS or SOCKS5), or directly; and which certificate authorities it trusts
(certifi's bundle, plus any the user added for a company proxy or a private server).

Settings → Network saves a profile (services/network.py) and `activate` makes it current for
the whole process: every outgoing HTTP client is built on `RoutingTransport`, which looks the
current profile up for each request, so a change applies to the next request without a restart.
One profile per process because one sidecar serves one data dir, like the OS's own proxy setting.

The system proxy is what `urllib.request.getproxies()` reports: HTTPS_PROXY / HTTP_PROXY /
ALL_PROXY from the environment first; when they are unset, the OS's setting on macOS (System
Settings → Network → Proxies, manual entries; not PAC files) and Windows (Internet Options, the
registry; not WPAD or PAC). NO_PROXY is honoured; loopback (localhost, 127.0.0.0/8, ::1) always
goes direct in system mode, as browsers do, so local model servers keep working behind a proxy.
"""

import ipaddress
import logging
import ssl
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

import certifi
import httpx

from sage_sidecar.core import redaction

log = logging.getLogger(__name__)

ProxyMode = Literal["system", "custom", "direct"]
PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")
DEFAULT_BYPASS = ("localhost", "127.0.0.1", "::1")


def trust_store(extra_ca_pem: str = "") -> ssl.SSLContext:
    """certifi's CAs plus `extra_ca_pem`'s; raises ssl.SSLError for PEM that is not certificates.
    Loading the bundle takes ~100 ms: build it once per profile, off the event loop."""
    context = ssl.create_default_context(cafile=certifi.where())
    if extra_ca_pem.strip():
        context.load_verify_locations(cadata=extra_ca_pem)
    return context


def redacted(proxy_url: str) -> str:
    """A proxy URL fit for a log or an error: the password (if any) replaced."""
    url = httpx.URL(proxy_url)
    if not url.password:
        return proxy_url
    host = url.netloc.decode("ascii").rsplit("@", 1)[-1]
    return f"{url.scheme}://{url.username}:***@{host}"


def is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def bypassed(host: str, patterns: Iterable[str]) -> bool:
    """NO_PROXY's rules: `*` is every host; `example.com` and `.example.com` are that host and
    its subdomains; an address matches itself."""
    host = host.lower().strip("[]")
    for pattern in patterns:
        name = pattern.strip().lower().strip("[]")
        if name == "*":
            return True
        name = name.lstrip("*").lstrip(".")
        if name and (host == name or host.endswith("." + name)):
            return True
    return False


@dataclass(frozen=True)
class NetworkProfile:
    mode: ProxyMode = "system"
    proxy_url: str | None = None  # custom mode's proxy
    bypass: tuple[str, ...] = DEFAULT_BYPASS  # custom mode: hosts (and their subdomains) direct
    # The system's proxies when the profile was made (getproxies() reads the registry or
    # SystemConfiguration: not something to do per request).
    system_proxies: dict[str, str] = field(default_factory=dict)
    ssl_context: ssl.SSLContext = field(default_factory=trust_store, compare=False, repr=False)
    generation: int = 0  # which profile a pooled connection was made for

    def proxy_for(self, url: httpx.URL) -> str | None:
        """The proxy a request to `url` goes through, or None for a direct connection."""
        host = url.host
        if self.mode == "direct" or not host:
            return None
        if self.mode == "custom":
            return None if bypassed(host, self.bypass) else self.proxy_url
        if is_loopback(host) or bypassed(host, self.system_proxies.get("no", "").split(",")):
            return None
        proxies = self.system_proxies
        return proxies.get(url.scheme) or proxies.get("all") or None


def system_profile(generation: int = 0) -> NetworkProfile:
    proxies = {k: v for k, v in urllib.request.getproxies().items() if isinstance(v, str)}
    return NetworkProfile(mode="system", system_proxies=proxies, generation=generation)


_current: NetworkProfile | None = None


def current() -> NetworkProfile:
    """The profile in force; before any `activate`, the system proxy and certifi's CAs."""
    global _current
    if _current is None:
        _current = system_profile()
    return _current


def activate(profile: NetworkProfile) -> None:
    global _current
    _current = profile
    # A proxy's password is a secret: the log file replaces it wherever it turns up.
    redaction.KNOWN.add(*redaction.secrets_in_url(profile.proxy_url))
    proxy = profile.proxy_url if profile.mode == "custom" else None
    log.info("network: %s%s", profile.mode, f" via {redacted(proxy)}" if proxy else "")


class RoutingTransport(httpx.AsyncBaseTransport):
    """Sends each request the way the current profile says: through its proxy or directly, with
    its trust store. One pooled httpx transport per (profile, proxy). A connection that fails on
    the way to a proxy is raised as httpx.ProxyError, so a caller can say the proxy is at fault
    rather than the server (a refused connection looks the same either way otherwise)."""

    def __init__(self) -> None:
        self._pool: dict[tuple[int, str | None], httpx.AsyncHTTPTransport] = {}

    def _transport(self, profile: NetworkProfile, proxy: str | None) -> httpx.AsyncHTTPTransport:
        key = (profile.generation, proxy)
        transport = self._pool.get(key)
        if transport is None:
            transport = httpx.AsyncHTTPTransport(
                verify=profile.ssl_context, proxy=httpx.Proxy(proxy) if proxy else None
            )
            self._pool[key] = transport
        return transport

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        profile = current()
        proxy = profile.proxy_for(request.url)
        transport = self._transport(profile, proxy)
        try:
            return await transport.handle_async_request(request)
        except (httpx.ConnectError, httpx.ConnectTimeout) as error:
            # A certificate the server sent is the server's fault, not the proxy's.
            if proxy is None or _tls_failure(error):
                raise
            raise httpx.ProxyError(
                f"cannot connect to the proxy {redacted(proxy)}: {error}", request=request
            ) from error

    async def aclose(self) -> None:
        pool, self._pool = self._pool, {}
        for transport in pool.values():
            await transport.aclose()


def _tls_failure(error: BaseException) -> bool:
    """Whether the TLS handshake with the server failed (httpx wraps the ssl error twice)."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ssl.SSLError):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def http_client(**kwargs: object) -> httpx.AsyncClient:
    """An httpx client that follows Settings → Network (no environment lookups of its own)."""
    return httpx.AsyncClient(transport=RoutingTransport(), **kwargs)  # type: ignore[arg-type]
