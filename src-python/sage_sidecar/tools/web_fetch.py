"""Fetch a web page (GET only) and reduce HTML to text, with size, redirect and time limits.

Loopback, private and link-local addresses are refused: a model must not be able to reach
services on this machine or the local network (the sidecar itself, a router admin page...).
The host is resolved once, every address it resolves to must be public, and the connection goes
to one of those checked addresses: the name travels only as the Host header and the TLS server
name (SNI; the certificate is verified against the name). A name that answers a public address
for the check and a private one a moment later (DNS rebinding, TTL 0) cannot reach the LAN.
Each redirect is resolved and checked the same way. One deadline covers the whole fetch (every
hop, the body, its reduction to text): a server that drips a byte at a time is cut off. HTML is
reduced to text in a parse worker process, not in the sidecar (knowledge/page_text.py), through
the `read_page` the chat engine puts in the ToolContext.

SAGE_FETCH_ALLOW_PRIVATE=1 lifts the address check (not the pinning) for tests against a local
server.

Behind a proxy (Settings → Network, core/network.py) the address check still runs here, but the
proxy resolves the name again and connects on its own: the pinning cannot hold, so a name that
changes its answer between the two lookups could reach what the proxy can reach. That is the
proxy's network, not this machine's; the trade-off is written down in docs/security.md.
"""

import asyncio
import ipaddress
import os
import socket
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from sage_sidecar.core import network as network_settings
from sage_sidecar.tools.base import PageReader, Tool, ToolContext, ToolError

MAX_BYTES = 1_000_000
MAX_TEXT = 20_000
TIMEOUT_S = 15.0  # per network operation (connect, each read)
DEADLINE_S = 30.0  # the whole fetch: resolving, every redirect, the body
MAX_REDIRECTS = 5

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # IPv4 addresses embedded in IPv6 by a gateway


def _allow_private() -> bool:
    return os.environ.get("SAGE_FETCH_ALLOW_PRIVATE") == "1"


def is_public(address: IPAddress) -> bool:
    """A global unicast address; IPv4 inside IPv6 (mapped, NAT64) is judged as the IPv4 it is."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return is_public(address.ipv4_mapped)
        if address in _NAT64:
            return is_public(ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF))
    return address.is_global and not address.is_multicast


async def system_resolve(host: str, port: int) -> list[IPAddress]:
    """The addresses the OS resolver gives for `host`, in its order, each once."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])  # no IPv6 zone id
        if address not in addresses:
            addresses.append(address)
    return addresses


@dataclass(frozen=True)
class Network:
    """How fetch_url reaches the web. Tests inject a resolver, an address policy, a shorter
    deadline or a TLS context that trusts their own certificate."""

    resolve: Resolver = system_resolve
    allowed: Callable[[IPAddress], bool] = is_public
    deadline_s: float = DEADLINE_S
    verify: ssl.SSLContext | None = None  # None: Settings → Network's (certifi's CAs + extras)
    read_page: PageReader | None = None  # HTML to text, in a worker process (ToolContext's)


async def _checked_addresses(url: httpx.URL, network: Network) -> list[IPAddress]:
    """Resolve the URL's host once; every address must pass (one private address is enough to
    refuse: which one a connection would use is not ours to predict)."""
    if url.scheme not in ("http", "https") or not url.host:
        raise ToolError("only http and https URLs can be fetched")
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        addresses = await network.resolve(url.raw_host.decode("ascii"), port)
    except (OSError, UnicodeError, ValueError) as error:
        raise ToolError(f"cannot resolve {url.host}") from error
    if not addresses:
        raise ToolError(f"cannot resolve {url.host}")
    if not _allow_private() and not all(network.allowed(a) for a in addresses):
        raise ToolError(f"{url.host} is a local or private address; refusing to fetch it")
    return addresses


async def _send_pinned(
    client: httpx.AsyncClient, url: httpx.URL, addresses: list[IPAddress]
) -> httpx.Response:
    """GET `url` from the first checked address that accepts a connection, never re-resolving:
    the URL names the address, Host and SNI name the host."""
    host = url.raw_host.decode("ascii")
    headers = {"User-Agent": "Sage-Desktop", "Host": url.netloc.decode("ascii")}
    extensions = {"sni_hostname": host} if url.scheme == "https" else {}
    failure: httpx.ConnectError | None = None
    for address in addresses:
        request = client.build_request(
            "GET", url.copy_with(host=str(address)), headers=headers, extensions=extensions
        )
        try:
            return await client.send(request, stream=True)
        except httpx.ConnectError as error:
            failure = error
    raise ToolError(f"cannot connect to {url.host}: {str(failure)[:200]}") from failure


async def _read_body(response: httpx.Response) -> str:
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > MAX_BYTES:
            raise ToolError(f"the page is larger than {MAX_BYTES // 1000} kB")
    return body.decode(response.encoding or "utf-8", errors="replace")


async def _fetch(url: httpx.URL, network: Network) -> tuple[str, str]:
    """(content type, text) of the page at `url`, after at most MAX_REDIRECTS redirects."""
    for _ in range(MAX_REDIRECTS + 1):
        addresses = await _checked_addresses(url, network)
        # The profile's trust store is built once per change (loading CAs takes ~100 ms).
        profile = network_settings.current()
        proxy = profile.proxy_for(url)
        # A client per hop: a pooled connection belongs to one address and one TLS name.
        async with httpx.AsyncClient(
            timeout=TIMEOUT_S,
            follow_redirects=False,
            trust_env=False,
            verify=network.verify or profile.ssl_context,
            proxy=proxy,
        ) as client:
            if proxy:  # the proxy connects by name: nothing to pin (see the module's comment)
                request = client.build_request("GET", url, headers={"User-Agent": "Sage-Desktop"})
                response = await client.send(request, stream=True)
            else:
                response = await _send_pinned(client, url, addresses)
            try:
                if response.is_redirect and "location" in response.headers:
                    url = url.join(response.headers["location"])
                    continue
                if response.status_code >= 400:
                    raise ToolError(f"the server answered HTTP {response.status_code}")
                return response.headers.get("content-type", ""), await _read_body(response)
            finally:
                await response.aclose()
    raise ToolError("too many redirects")


async def fetch_text(url: str, network: Network | None = None) -> str:
    network = network or Network()
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as error:
        raise ToolError(f"not a valid URL: {error}") from error
    try:
        async with asyncio.timeout(network.deadline_s):
            content_type, text = await _fetch(parsed, network)
            if "html" in content_type:  # within the deadline too: a worker past it is killed
                if network.read_page is None:
                    raise ToolError("HTML pages cannot be read here (no page reader)")
                text = await network.read_page(text, str(parsed))
    except TimeoutError as error:
        raise ToolError(f"the page did not arrive within {network.deadline_s:g} s") from error
    except httpx.TimeoutException as error:
        raise ToolError(f"no answer within {TIMEOUT_S:g} s") from error
    except httpx.HTTPError as error:
        raise ToolError(f"fetch failed: {type(error).__name__}") from error
    return text[:MAX_TEXT]


async def _run(args: dict[str, Any], ctx: ToolContext) -> str:
    url = args.get("url")
    if not isinstance(url, str):
        raise ToolError("'url' (string) is required")
    return await fetch_text(url, Network(read_page=ctx.read_page))


FETCH_URL = Tool(
    name="fetch_url",
    description="Fetch a public web page or text file by URL (GET) and return its text.",
    parameters={
        "type": "object",
        "properties": {"url": {"type": "string", "description": "http(s) URL"}},
        "required": ["url"],
    },
    run=_run,
)
