"""HTTP plumbing shared by the provider clients: timeouts, status and transport errors mapped to
ProviderError kinds, the model list, and the streamed POST every chat API uses."""

import json
import math
import time
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from sage_sidecar.providers.base import ProviderError, StreamEvent

CONNECT_TIMEOUT_S = 10.0
# Generous between chunks: local models on a laptop can pause for a long time.
READ_TIMEOUT_S = 120.0


def error_for_status(
    status: int, body: str, headers: Mapping[str, str] | None = None
) -> ProviderError:
    detail = error_detail(body)
    if status in (401, 403):
        return ProviderError("auth", detail, status)
    if status == 404:
        return ProviderError("bad_url", detail, status)
    # RFC 9110: Retry-After on 429 and 503 says when to come back.
    wait = retry_after(headers) if headers is not None and status in (429, 503) else None
    if wait is not None:
        detail = f"{detail} (retry after {math.ceil(wait)} s)".lstrip()
    if status == 429:
        return ProviderError("rate_limit", detail, status, retry_after=wait)
    if status >= 500:
        return ProviderError("server", detail, status, retry_after=wait)
    return ProviderError("bad_request", detail, status)


def retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """The wait, in seconds, a response asks for: `retry-after-ms` (OpenAI's, finer), else
    `Retry-After` as seconds or an HTTP date. None when absent or unreadable."""
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            value = float(millis) / 1000
        except ValueError:
            value = math.nan
        if math.isfinite(value):
            return max(0.0, value)
    text = (headers.get("retry-after") or "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:  # "-0000": a zone not given; HTTP dates are GMT
            when = when.replace(tzinfo=UTC)
        value = when.timestamp() - (time.time() if now is None else now)
    return max(0.0, value) if math.isfinite(value) else None


def error_detail(body: str) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return body.strip()[:300]
    error = data.get("error") if isinstance(data, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    if isinstance(message, str):
        return message[:300]
    if isinstance(error, str):
        return error[:300]
    return ""


async def get_model_ids(http: httpx.AsyncClient, url: str, headers: dict[str, str]) -> list[str]:
    """`GET …/models` → sorted ids; OpenAI and Anthropic share the `{"data": [{"id"}]}` shape."""
    try:
        response = await http.get(url, headers=headers, timeout=CONNECT_TIMEOUT_S)
    except httpx.TimeoutException as error:
        raise ProviderError("timeout") from error
    except httpx.ProxyError as error:  # Settings → Network's proxy (core/network.py)
        raise ProviderError("unreachable", str(error)) from error
    except httpx.HTTPError as error:
        raise ProviderError("unreachable", type(error).__name__) from error
    if response.status_code != 200:
        raise error_for_status(response.status_code, response.text, response.headers)
    try:
        return sorted(item["id"] for item in response.json()["data"])
    except (ValueError, KeyError, TypeError) as error:
        raise ProviderError("bad_response", "unexpected model list") from error


async def stream_events(
    http: httpx.AsyncClient,
    url: str,
    body: dict[str, Any],
    headers: dict[str, str],
    parse: Callable[[httpx.Response], AsyncIterator[StreamEvent]],
) -> AsyncIterator[StreamEvent]:
    """POST a streaming request and yield what `parse` makes of the response, with every
    failure turned into a ProviderError."""
    timeout = httpx.Timeout(READ_TIMEOUT_S, connect=CONNECT_TIMEOUT_S)
    try:
        async with http.stream(
            "POST", url, json=body, headers=headers, timeout=timeout
        ) as response:
            if response.status_code != 200:
                body_text = (await response.aread()).decode(errors="replace")
                raise error_for_status(response.status_code, body_text, response.headers)
            async for event in parse(response):
                yield event
    except httpx.TimeoutException as error:
        raise ProviderError("timeout") from error
    except (httpx.RemoteProtocolError, httpx.ReadError) as error:
        raise ProviderError("dropped", type(error).__name__) from error
    except httpx.ProxyError as error:
        raise ProviderError("unreachable", str(error)) from error
    except httpx.HTTPError as error:
        raise ProviderError("unreachable", type(error).__name__) from error


class HttpProviderClient:
    """What every provider client shares; a subclass names its paths, headers, request body and
    stream parser."""

    models_path: str
    chat_path: str

    def __init__(self, base_url: str, api_key: str | None, http: httpx.AsyncClient) -> None:
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._http = http

    def _headers(self) -> dict[str, str]:
        raise NotImplementedError

    def _body(self, request: Any) -> dict[str, Any]:
        raise NotImplementedError

    def _parse(self, response: httpx.Response) -> AsyncIterator[StreamEvent]:
        raise NotImplementedError

    async def list_models(self) -> list[str]:
        return await get_model_ids(self._http, self.base_url + self.models_path, self._headers())

    def stream_chat(self, request: Any) -> AsyncIterator[StreamEvent]:
        url = self.base_url + self.chat_path
        return stream_events(self._http, url, self._body(request), self._headers(), self._parse)
