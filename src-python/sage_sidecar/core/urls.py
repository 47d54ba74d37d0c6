"""Where a URL sends its requests: scheme, host and port. A secret given for one place (a
provider's API key, an MCP server's headers) is not sent to another when only its URL changes."""

from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}


def origin(url: str | None) -> tuple[str, str, int | None]:
    parts = urlsplit(url or "")
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    host = (parts.hostname or "").rstrip(".").lower()
    return scheme, host, port if port is not None else DEFAULT_PORTS.get(scheme)


def same_origin(a: str | None, b: str | None) -> bool:
    return origin(a) == origin(b)
