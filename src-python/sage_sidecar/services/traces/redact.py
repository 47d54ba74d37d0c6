"""What a trace may keep: secrets and attached files' contents are replaced before anything is
written. Known secrets (every provider's key, MCP servers' env and header values, the sidecar's
own key) are replaced wherever they appear; text shaped like a key is replaced too, for secrets
Sage never saw (a key pasted into a chat, a token in a tool's output)."""

import re
from collections.abc import Iterable
from typing import Any

REDACTED = "[redacted]"
# Shapes of common credentials. Conservative: a false positive hides a little text in a trace.
_SHAPES = re.compile(
    r"sk-(?:ant-|proj-)?[A-Za-z0-9_\-]{16,}"  # OpenAI, Anthropic, DeepSeek, OpenRouter
    r"|AKIA[0-9A-Z]{16}"  # AWS access key id
    r"|gh[pousr]_[A-Za-z0-9]{30,}"  # GitHub tokens
    r"|xox[abprs]-[A-Za-z0-9\-]{10,}"  # Slack tokens
    r"|AIza[0-9A-Za-z_\-]{35}"  # Google API keys
    r"|(?i:bearer)\s+[A-Za-z0-9._~+/\-]{12,}=*"  # an Authorization header's value
    r"|(?i:(?:api[_-]?key|secret|password|passwd|token)[\"']?\s*[:=]\s*[\"']?)[^\s\"',;]{6,}"
)
_ASSIGNMENT = re.compile(
    r"(?i)((?:api[_-]?key|secret|password|passwd|token)[\"']?\s*[:=]\s*[\"']?)"
)
# attachments.for_model wraps each attached file's text like this.
_ATTACHMENT = re.compile(r'<attachment name="([^"]*)">\n(.*?)\n</attachment>', re.DOTALL)
# Header names whose values are kept; every other header's value is a secret until known not to be.
_PLAIN_HEADERS = frozenset({"anthropic-version", "content-type", "accept"})
MIN_SECRET_LENGTH = 6  # shorter "secrets" (a test's "k") would blank out ordinary words


class Redactor:
    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        known = sorted({s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH}, key=len)
        self._known = re.compile("|".join(re.escape(s) for s in reversed(known))) if known else None

    def text(self, value: str) -> str:
        if self._known is not None:
            value = self._known.sub(REDACTED, value)
        return _SHAPES.sub(_shape_replacement, value)

    def message_content(self, value: str) -> str:
        """A message sent to the model: attached files become a placeholder with their size."""
        return self.text(_ATTACHMENT.sub(_attachment_placeholder, value))

    def value(self, value: Any) -> Any:
        """Any JSON-like value: every string in it redacted."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        return value


def headers(values: dict[str, str]) -> dict[str, str]:
    """Header names as sent, values only where they cannot be a credential."""
    return {k: v if k.lower() in _PLAIN_HEADERS else REDACTED for k, v in values.items()}


def _shape_replacement(match: re.Match[str]) -> str:
    # Keep "api_key=" (it says what was there) and drop the value.
    prefix = _ASSIGNMENT.match(match.group(0))
    return (prefix.group(1) if prefix else "") + REDACTED


def _attachment_placeholder(match: re.Match[str]) -> str:
    name, text = match.group(1), match.group(2)
    kind = name.rsplit(".", 1)[-1].lower() if "." in name else "file"
    return f'<attachment name="{name}" type="{kind}" chars="{len(text)}">[content not kept in traces]</attachment>'
