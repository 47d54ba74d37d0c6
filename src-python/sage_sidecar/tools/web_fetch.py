"""Fetch a web page (GET only) and reduce HTML to text, with size, time and redirect limits.

Loopback, private and link-local addresses are refused: a model must not be able to reach
services on this machine or the local network (the sidecar itself, a router admin page...).
SAGE_FETCH_ALLOW_PRIVATE=1 lifts that for tests against a local server.
"""

import asyncio
import ipaddress
import os
import socket
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from sage_sidecar.tools.base import Tool, ToolContext, ToolError

MAX_BYTES = 1_000_000
MAX_TEXT = 20_000
TIMEOUT_S = 15.0
MAX_REDIRECTS = 5


def _allow_private() -> bool:
    return os.environ.get("SAGE_FETCH_ALLOW_PRIVATE") == "1"


async def _check_public(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ToolError("only http and https URLs can be fetched")
    if _allow_private():
        return
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(parts.hostname, parts.port or 443)
    except socket.gaierror as error:
        raise ToolError(f"cannot resolve {parts.hostname}") from error
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise ToolError(f"{parts.hostname} is a local or private address; refusing to fetch it")


def html_to_text(html: str) -> str:
    from bs4 import BeautifulSoup  # imported on first use: keeps sidecar start-up fast

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "svg"]):
        tag.decompose()
    lines = (line.strip() for line in soup.get_text("\n").splitlines())
    return "\n".join(line for line in lines if line)


async def fetch_text(url: str) -> str:
    async with httpx.AsyncClient(timeout=TIMEOUT_S, follow_redirects=False) as client:
        for _ in range(MAX_REDIRECTS + 1):
            await _check_public(url)
            try:
                async with client.stream(
                    "GET", url, headers={"User-Agent": "Sage-Desktop"}
                ) as response:
                    if response.is_redirect and "location" in response.headers:
                        url = urljoin(url, response.headers["location"])
                        continue
                    if response.status_code >= 400:
                        raise ToolError(f"the server answered HTTP {response.status_code}")
                    body = bytearray()
                    async for chunk in response.aiter_bytes():
                        body += chunk
                        if len(body) > MAX_BYTES:
                            raise ToolError(f"the page is larger than {MAX_BYTES // 1000} kB")
                    content_type = response.headers.get("content-type", "")
                    text = body.decode(response.encoding or "utf-8", errors="replace")
            except httpx.TimeoutException as error:
                raise ToolError(f"no answer within {TIMEOUT_S:.0f} s") from error
            except httpx.HTTPError as error:
                raise ToolError(f"fetch failed: {type(error).__name__}") from error
            if "html" in content_type:
                text = await asyncio.to_thread(html_to_text, text)
            return text[:MAX_TEXT]
    raise ToolError("too many redirects")


async def _run(args: dict[str, Any], _ctx: ToolContext) -> str:
    url = args.get("url")
    if not isinstance(url, str):
        raise ToolError("'url' (string) is required")
    return await fetch_text(url)


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
