"""Reduces the pages `fetch_url` fetches to text in parse worker processes, never in the
sidecar's own (knowledge/page_text.py says why). A pool of its own, so a page never waits behind
a knowledge base's long parses; one per event loop, its workers kept warm for a minute."""

import asyncio
import weakref

from sage_sidecar.knowledge.parse_worker import ParseLimits, ParserPool
from sage_sidecar.knowledge.parsers import ParseError
from sage_sidecar.tools.base import ToolError

PAGE_LIMITS = ParseLimits(timeout_s=20.0, memory_mb=1024, workers=2, idle_s=60.0)
MAX_TEXT = 20_000  # what fetch_url returns at most

_pools: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ParserPool]" = (
    weakref.WeakKeyDictionary()
)


def pool() -> ParserPool:
    loop = asyncio.get_running_loop()
    found = _pools.get(loop)
    if found is None:
        found = _pools[loop] = ParserPool(PAGE_LIMITS)
    return found


async def read_page(html: str, source: str) -> str:
    """The page's text (at most MAX_TEXT characters); `source` (the URL) names it in the log."""
    try:
        return await pool().page_text(html, MAX_TEXT, source=source)
    except ParseError as error:
        raise ToolError(f"the page could not be read: {error}") from error


async def close() -> None:
    """Kill this loop's page workers (the sidecar is stopping)."""
    found = _pools.pop(asyncio.get_running_loop(), None)
    if found is not None:
        await found.close()
