"""The one place that knows what a secret looks like, used by everything that writes text out:
traces and the audit log (services/traces/redact.py builds on this), exports (the backup's
database copy), and the log file (a filter on its handlers).

Known secrets (every provider's key, MCP servers' env and header values, tokens in MCP arguments
and URLs, the sidecar's own key) are replaced wherever they appear; text shaped like a credential
is replaced too, for secrets Sage never saw (a key pasted into a chat, a token in a tool's output).
"""

import logging
import re
import threading
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlsplit

REDACTED = "[redacted]"
MIN_SECRET_LENGTH = 6  # shorter "secrets" (a test's "k") would blank out ordinary words

# Names that mark a value as a credential: in a query string, an `--option`, an assignment.
_SECRET_NAME = r"api[_-]?key|apikey|access[_-]?token|auth[_-]?token|token|secret|password|passwd"
_QUERY_NAMES = frozenset(
    {"api_key", "api-key", "apikey", "key", "token", "access_token", "auth", "auth_token",
     "secret", "client_secret", "password", "passwd", "sig", "signature", "code"}
)  # fmt: skip
_FLAG = re.compile(r"^--?(?:" + _SECRET_NAME + r"|key|auth|bearer|pat)$", re.IGNORECASE)
_FLAG_ASSIGNED = re.compile(r"^(--?(?:" + _SECRET_NAME + r"|key|auth|bearer|pat)=)(.+)$", re.I)
_HEADER_FLAGS = frozenset({"-H", "--header", "--headers"})

# Shapes of common credentials. Conservative: a false positive hides a little text.
_SHAPES = re.compile(
    r"sk-(?:ant-|proj-)?[A-Za-z0-9_\-]{16,}"  # OpenAI, Anthropic, DeepSeek, OpenRouter
    r"|AKIA[0-9A-Z]{16}"  # AWS access key id
    r"|gh[pousr]_[A-Za-z0-9]{30,}"  # GitHub tokens
    r"|xox[abprs]-[A-Za-z0-9\-]{10,}"  # Slack tokens
    r"|AIza[0-9A-Za-z_\-]{35}"  # Google API keys
    r"|(?i:bearer)\s+[A-Za-z0-9._~+/\-]{12,}=*"  # an Authorization header's value
    r"|(?i:(?:authorization|x-api-key|proxy-authorization)\s*:\s*)[^\s\"',;]+(?:\s+[^\s\"',;]+)?"
    r"|(?i:(?:" + _SECRET_NAME + r")[\"']?\s*[:=]\s*[\"']?)[^\s\"',;&#]{6,}"
    r"|(?i:[?&]key=)[^\s\"'&#]{6,}"  # ?key= in a URL (Google-style API keys)
    r"|(?i:https?://)[^\s/@:\"']+:[^\s/@\"']+@"  # userinfo with a password
)
_PREFIX = re.compile(
    r"(?i)((?:" + _SECRET_NAME + r")[\"']?\s*[:=]\s*[\"']?|[?&]key=|https?://"
    r"|(?:authorization|x-api-key|proxy-authorization)\s*:\s*)"
)


def _shape_replacement(match: re.Match[str]) -> str:
    # Keep "api_key=" or "https://" (it says what was there) and drop the value.
    text = match.group(0)
    prefix = _PREFIX.match(text)
    if prefix and prefix.group(1).lower().startswith("http"):
        return prefix.group(1) + REDACTED + "@"
    return (prefix.group(1) if prefix else "") + REDACTED


def redact_shapes(value: str) -> str:
    return _SHAPES.sub(_shape_replacement, value)


class Redactor:
    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        known = sorted({s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH}, key=len)
        self._known = re.compile("|".join(re.escape(s) for s in reversed(known))) if known else None

    def text(self, value: str) -> str:
        if self._known is not None:
            value = self._known.sub(REDACTED, value)
        return redact_shapes(value)

    def value(self, value: Any) -> Any:
        """Any JSON-like value: every string in it redacted."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        return value


def secrets_in_url(url: str | None) -> list[str]:
    """The credentials a URL carries: userinfo and secret-named query values."""
    if not url:
        return []
    try:
        parts = urlsplit(url)
    except ValueError:
        return []
    found = [v for v in (parts.username, parts.password) if v and parts.password]
    found += [v for k, v in parse_qsl(parts.query) if k.lower() in _QUERY_NAMES and v]
    return found


def secrets_in_args(args: Sequence[Any]) -> list[str]:
    """Tokens in a command line: `--token x`, `--api-key=x`, `-H "Authorization: Bearer x"`,
    and URLs with credentials among the arguments."""
    found: list[str] = []
    items = [str(a) for a in args]
    for i, arg in enumerate(items):
        nxt = items[i + 1] if i + 1 < len(items) else None
        if _FLAG.match(arg) and nxt is not None:
            found.append(nxt)
        elif assigned := _FLAG_ASSIGNED.match(arg):
            found.append(assigned.group(2))
        elif arg in _HEADER_FLAGS and nxt is not None and ":" in nxt:
            found.append(nxt.split(":", 1)[1].strip())
        found += secrets_in_url(arg) if "://" in arg else []
        if ":" in arg and arg.split(":", 1)[0].strip().lower() in ("authorization", "x-api-key"):
            found.append(arg.split(":", 1)[1].strip())
    # A header value "Bearer x" is also known by its token alone.
    found += [f.split(None, 1)[1] for f in found if " " in f.strip()]
    return list(dict.fromkeys(f for f in found if len(f) >= MIN_SECRET_LENGTH))


def scrub_url(url: str | None) -> str | None:
    """A URL without its credentials (userinfo, secret-named query values)."""
    if not url:
        return url
    return Redactor(secrets_in_url(url)).text(url)


def scrub_args(args: Sequence[Any]) -> list[Any]:
    redactor = Redactor(secrets_in_args(args))
    return [redactor.text(a) if isinstance(a, str) else a for a in args]


class KnownSecrets:
    """Secrets the process has held in plaintext (storage/secrets.py registers each one it
    reads or writes), so the log file can replace them wherever they turn up."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: set[str] = set()
        self._redactor = Redactor()

    def add(self, *values: str | None) -> None:
        new = {v for v in values if v and len(v) >= MIN_SECRET_LENGTH} - self._values
        if new:
            with self._lock:
                self._values |= new
                self._redactor = Redactor(self._values)

    def redactor(self) -> Redactor:
        return self._redactor


KNOWN = KnownSecrets()


class RedactingFilter(logging.Filter):
    """On a log handler: the record's message with known and credential-shaped secrets replaced
    (an httpx request line with `?api_key=`, an exception quoting a header)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True
        clean = KNOWN.redactor().text(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            # A traceback can quote a secret (an exception's message, a local in a frame line).
            record.exc_text = KNOWN.redactor().text(_FORMATTER.formatException(record.exc_info))
        return True


_FORMATTER = logging.Formatter()
