"""core/redaction.py: the tokens MCP arguments, MCP URLs and provider base URLs carry are found
and scrubbed, ordinary arguments and URLs are left alone, and the log handlers' filter replaces
known secrets and credential shapes (tracebacks included)."""

import logging

import pytest

from sage_sidecar.core import redaction
from sage_sidecar.core.redaction import (
    REDACTED,
    RedactingFilter,
    scrub_args,
    scrub_url,
    secrets_in_args,
    secrets_in_url,
)


@pytest.mark.parametrize(
    ("args", "found"),
    [
        (["--token", "tok123456"], ["tok123456"]),
        (["--api-key=key123456"], ["key123456"]),
        (["--apikey", "key123456", "--port", "8080"], ["key123456"]),
        (["-H", "Authorization: Bearer abcdefgh12"], ["Bearer abcdefgh12", "abcdefgh12"]),
        (["--header", "X-Api-Key: hdr123456"], ["hdr123456"]),
        (["Authorization: Basic dXNlcjpwYXNz"], ["Basic dXNlcjpwYXNz", "dXNlcjpwYXNz"]),
        (["https://user:pw123456@mcp.example/sse"], ["user", "pw123456"]),
        (["serve", "--port", "8080", "--verbose", "/data/files"], []),
        (["--token", "abc"], []),  # too short to be told from a word
    ],
)
def test_secrets_in_args(args: list[str], found: list[str]) -> None:
    assert [f for f in secrets_in_args(args) if len(f) >= 6] == [f for f in found if len(f) >= 6]


def test_scrub_args_keeps_the_flags_and_drops_the_values() -> None:
    args = ["-y", "@mcp/server", "--token", "tok123456", "--api-key=key123456", "--port", "8080"]
    assert scrub_args(args) == ["-y", "@mcp/server", "--token", REDACTED,
                                f"--api-key={REDACTED}", "--port", "8080"]  # fmt: skip


@pytest.mark.parametrize(
    ("url", "clean"),
    [
        ("https://api.example/v1?api_key=abc123456", f"https://api.example/v1?api_key={REDACTED}"),
        (
            "https://gen.example/v1?key=AIzaabc123456&alt=sse",
            f"https://gen.example/v1?key={REDACTED}&alt=sse",
        ),
        ("https://mcp.example/mcp?token=tok123456", f"https://mcp.example/mcp?token={REDACTED}"),
        ("https://user:pass123456@proxy.example/v1", f"https://{REDACTED}@proxy.example/v1"),
        ("http://127.0.0.1:11434/v1", "http://127.0.0.1:11434/v1"),
        (
            "https://api.example/v1?model=gpt&stream=true",
            "https://api.example/v1?model=gpt&stream=true",
        ),
        (None, None),
    ],
)
def test_scrub_url(url: str | None, clean: str | None) -> None:
    assert scrub_url(url) == clean


def test_secrets_in_url() -> None:
    assert secrets_in_url("https://u:p4ssword@h.example/x?token=t0ken123&page=2") == [
        "u", "p4ssword", "t0ken123"]  # fmt: skip
    assert secrets_in_url("https://u@h.example/x") == []  # a user name alone is not a secret


def test_the_log_filter_replaces_known_secrets_and_shapes_in_messages_and_tracebacks() -> None:
    redaction.KNOWN.add("plainly-known-value")
    records = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    handler = Keep()
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("test_redaction")
    logger.addHandler(handler)
    try:
        logger.warning(
            "sent %s to %s", "plainly-known-value", "https://h.example/?api_key=abcdef123"
        )
        try:
            raise RuntimeError("the header was plainly-known-value")
        except RuntimeError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    text = "\n".join(records)
    assert "plainly-known-value" not in text and "abcdef123" not in text
    assert f"sent {REDACTED} to https://h.example/?api_key={REDACTED}" in text
    assert "RuntimeError: the header was [redacted]" in text
