"""Why an MCP server failed to start, as a code the UI translates ("The command /x/y was not
found") with the raw exception text kept as the detail people can open on demand."""

import os
import shutil
from pathlib import Path
from typing import Any

import httpx

from sage_sidecar.tools.base import ToolError


class McpStartError(ToolError):
    """A server that did not start: `str()` is the raw, redacted detail; `code` and `params`
    say it in words (`errors.mcp.start.*` in the locale files)."""

    def __init__(self, detail: str, *, code: str, **params: Any) -> None:
        super().__init__(detail)
        self.code = code
        self.params: dict[str, Any] = params


def _first(error: BaseException) -> BaseException:
    # anyio task groups wrap the real failure (a spawn's FileNotFoundError) in a group.
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return error


def command_problem(command: str | None, path: str | None) -> str | None:
    """`not_found` or `not_permitted` when `command` cannot run, looked up as the spawn does
    (on `path`, the server's PATH). The server starts under a supervisor (core/reaper.py), so a
    missing command reaches the sidecar only as a closed connection: this says why."""
    if not command or shutil.which(command, path=path):
        return None
    return "not_permitted" if Path(command).exists() else "not_found"


def start_error(
    name: str,
    command: str | None,
    url: str | None,
    error: BaseException,
    detail: str,
    path: str | None = None,
) -> McpStartError:
    """The coded error for `error`; `detail` is its redacted text. `url` must be redacted;
    `path` is the PATH the server was started with (None: the sidecar's)."""
    cause = _first(error)
    problem = command_problem(command, path if path is not None else os.environ.get("PATH"))
    if problem == "not_found":
        return McpStartError(detail, code="mcp.start.command_not_found", name=name,
                             command=command or "")  # fmt: skip
    if problem == "not_permitted":
        return McpStartError(detail, code="mcp.start.not_permitted", name=name,
                             command=command or "")  # fmt: skip
    if isinstance(cause, FileNotFoundError):
        missing = str(cause.filename or command or "")
        return McpStartError(detail, code="mcp.start.command_not_found", name=name, command=missing)
    if isinstance(cause, PermissionError):
        denied = str(cause.filename or command or "")
        return McpStartError(detail, code="mcp.start.not_permitted", name=name, command=denied)
    if isinstance(cause, (httpx.ConnectError, ConnectionError)):
        return McpStartError(detail, code="mcp.start.unreachable", name=name, url=url or "")
    if isinstance(cause, httpx.HTTPStatusError):
        status = cause.response.status_code
        return McpStartError(detail, code="mcp.start.http", name=name, status=status)
    return McpStartError(detail, code="mcp.start.failed", name=name)


def start_timeout(name: str, seconds: float) -> McpStartError:
    detail = f"MCP server {name!r} did not start within {seconds:.0f} s"
    return McpStartError(detail, code="mcp.start.timeout", name=name, seconds=round(seconds))
