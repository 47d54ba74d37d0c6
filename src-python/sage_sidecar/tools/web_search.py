"""`web_search`: searches the web through the search API the user set up in Settings → Web search
(a SearXNG instance, Brave Search or Tavily) and returns numbered results — title, URL, snippet —
the model can cite and open with fetch_url.

The results are untrusted text from the web: the taint rule treats them like a fetched page
(tools/policy.py), and the search API's host is under the agent's domain limits like fetch_url's
hosts (the query leaves the machine for it). The connection follows Settings → Network.
The configuration is process-wide (`configure`), set at start and on every save by
services/web_search.py; the API key never reaches the model, a log or an error text.
"""

import html
import re
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from sage_sidecar.core import network
from sage_sidecar.tools.base import Tool, ToolContext, ToolError

Backend = Literal["none", "searxng", "brave", "tavily"]
TIMEOUT_S = 15.0
MAX_RESULTS = 10
MAX_SNIPPET = 400
MAX_QUERY = 400
API_URLS = {
    "brave": "https://api.search.brave.com/res/v1/web/search",
    "tavily": "https://api.tavily.com/search",
}


@dataclass(frozen=True)
class SearchConfig:
    backend: Backend = "none"
    searxng_url: str | None = None
    api_key: str | None = None
    api_url: str | None = None  # Brave's or Tavily's endpoint, overridden (a gateway, a test)
    max_results: int = 5

    def endpoint(self) -> str | None:
        if self.backend == "searxng":
            return self.searxng_url.rstrip("/") + "/search" if self.searxng_url else None
        if self.backend in API_URLS:
            return self.api_url or API_URLS[self.backend]
        return None


@dataclass(frozen=True)
class SearchResult:
    title: str
    url: str
    snippet: str


_config = SearchConfig()


def configure(config: SearchConfig) -> None:
    global _config
    _config = config


def current() -> SearchConfig:
    return _config


_TAG = re.compile(r"<[^>]{0,200}>")


def _clean(text: Any, limit: int) -> str:
    """Plain text: Brave marks matches with <strong>, SearXNG may send entities."""
    value = html.unescape(_TAG.sub("", str(text or ""))).strip()
    return " ".join(value.split())[:limit]


def _results(items: Any, snippet_key: str) -> list[SearchResult]:
    if not isinstance(items, list):
        raise ToolError("the search API sent an answer Sage cannot read")
    found = []
    for item in items:
        if not isinstance(item, dict):
            continue
        url = str(item.get("url") or "")
        if not url.startswith(("http://", "https://")):
            continue
        found.append(SearchResult(_clean(item.get("title"), 200) or url, url[:2000],
                                  _clean(item.get(snippet_key), MAX_SNIPPET)))  # fmt: skip
    return found


async def search(query: str, count: int, config: SearchConfig) -> list[SearchResult]:
    endpoint = config.endpoint()
    if endpoint is None:
        raise ToolError("web search is not set up (Settings → Web search)")
    if config.backend in ("brave", "tavily") and not config.api_key:
        raise ToolError(
            f"web search needs the {config.backend.title()} API key (Settings → Web search)"
        )
    async with network.http_client(timeout=TIMEOUT_S, follow_redirects=False) as client:
        try:
            if config.backend == "searxng":
                response = await client.get(endpoint, params={"q": query, "format": "json"})
            elif config.backend == "brave":
                response = await client.get(
                    endpoint,
                    params={"q": query, "count": count},
                    headers={"Accept": "application/json",
                             "X-Subscription-Token": config.api_key or ""},
                )  # fmt: skip
            else:
                response = await client.post(
                    endpoint,
                    json={"query": query, "max_results": count},
                    headers={"Authorization": f"Bearer {config.api_key}"},
                )
        except httpx.TimeoutException as error:
            raise ToolError(f"the search API did not answer within {TIMEOUT_S:g} s") from error
        except httpx.HTTPError as error:  # its text can name the proxy, never the key
            raise ToolError(f"cannot reach the search API: {type(error).__name__}") from error
    if response.status_code in (401, 403):
        hint = (" (the instance must allow format=json in its settings.yml)"
                if config.backend == "searxng" else " (check the API key)")  # fmt: skip
        raise ToolError(f"the search API refused the request (HTTP {response.status_code}){hint}")
    if response.status_code == 429:
        raise ToolError("the search API's rate limit is reached; try again later")
    if response.status_code != 200:
        raise ToolError(f"the search API answered HTTP {response.status_code}")
    try:
        data = response.json()
    except ValueError as error:
        raise ToolError("the search API did not answer with JSON") from error
    if not isinstance(data, dict):
        raise ToolError("the search API sent an answer Sage cannot read")
    if config.backend == "brave":
        web = data.get("web")
        items = web.get("results", []) if isinstance(web, dict) else []
        return _results(items, "description")[:count]
    return _results(data.get("results", []), "content")[:count]


def format_results(query: str, results: list[SearchResult]) -> str:
    if not results:
        return f"No results for {query!r}."
    lines = [f"Web search results for {query!r} (untrusted text from the web; cite by URL, "
             "open one with fetch_url to read it):"]  # fmt: skip
    for number, result in enumerate(results, 1):
        lines += ["", f"[{number}] {result.title}", result.url]
        if result.snippet:
            lines.append(result.snippet)
    return "\n".join(lines)


async def _run(args: dict[str, Any], ctx: ToolContext) -> str:
    query = args.get("query")
    if not isinstance(query, str) or not query.strip():
        raise ToolError("'query' (a non-empty string) is required")
    config = current()
    count = args.get("count", config.max_results)
    if not isinstance(count, int) or isinstance(count, bool):
        count = config.max_results
    count = max(1, min(count, MAX_RESULTS))
    query = query.strip()[:MAX_QUERY]
    return format_results(query, await search(query, count, config))


WEB_SEARCH = Tool(
    name="web_search",
    description=(
        "Search the web. Returns numbered results with title, URL and snippet; cite the URLs "
        "you use, and open a result with fetch_url when the snippet is not enough."
    ),
    parameters={
        "type": "object",
        "properties": {
            "query": {"type": "string", "description": "what to search for"},
            "count": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_RESULTS,
                "description": "how many results (default: the user's setting)",
            },
        },
        "required": ["query"],
    },  # fmt: skip
    run=_run,
)
