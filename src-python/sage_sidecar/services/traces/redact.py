"""What a trace may keep: secrets and attached files' contents are replaced before anything is
written. What a secret looks like is core/redaction.py's (shared with the audit log, exports and
the log file); this adds what only traces need: attached files and request headers."""

import re

from sage_sidecar.core import redaction
from sage_sidecar.core.redaction import MIN_SECRET_LENGTH, REDACTED

__all__ = ["MIN_SECRET_LENGTH", "REDACTED", "Redactor", "headers"]

# attachments.for_model wraps each attached file's text like this.
_ATTACHMENT = re.compile(r'<attachment name="([^"]*)">\n(.*?)\n</attachment>', re.DOTALL)
# Header names whose values are kept; every other header's value is a secret until known not to be.
_PLAIN_HEADERS = frozenset({"anthropic-version", "content-type", "accept"})


class Redactor(redaction.Redactor):
    def message_content(self, value: str) -> str:
        """A message sent to the model: attached files become a placeholder with their size."""
        return self.text(_ATTACHMENT.sub(_attachment_placeholder, value))


def headers(values: dict[str, str]) -> dict[str, str]:
    """Header names as sent, values only where they cannot be a credential."""
    return {k: v if k.lower() in _PLAIN_HEADERS else REDACTED for k, v in values.items()}


def _attachment_placeholder(match: re.Match[str]) -> str:
    name, text = match.group(1), match.group(2)
    kind = name.rsplit(".", 1)[-1].lower() if "." in name else "file"
    return f'<attachment name="{name}" type="{kind}" chars="{len(text)}">[content not kept in traces]</attachment>'
