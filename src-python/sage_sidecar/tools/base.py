from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sage_sidecar.providers.base import ToolSpec
from sage_sidecar.schemas.protocol.parts import NoticeCode


class ToolError(Exception):
    """A tool failed in a way the model should hear about (bad arguments, refused path...)."""


class ToolNotice(ToolError):
    """A failure the user must hear of too, in their language: the model reads the text (then
    `output`, e.g. what a script printed) as the tool's error, and the reply gets a notice with
    the code (translated as chat.code.<code>) and the text alone."""

    def __init__(self, text: str, code: NoticeCode, output: str = "", **params: str) -> None:
        super().__init__(text)
        self.code: NoticeCode = code
        self.output = output
        self.params = params


# (html, url) -> the page's text, reduced outside the sidecar's process (services/page_reader.py)
PageReader = Callable[[str, str], Awaitable[str]]


@dataclass(frozen=True)
class WorkspaceHooks:
    """What the file tools need from the sidecar beyond the folder (services/workspace.py)."""

    quota_bytes: int | None = None  # the workspace's size limit; None: no limit
    # (agent id, path) after a tool wrote a file (path None: run_python, which may have written
    # anything): announced on /ws/events for the Workspace screen
    written: Callable[[str, str | None], None] | None = None


@dataclass(frozen=True)
class ToolContext:
    agent_id: str
    workspace: Path  # the agent's own folder under storage/
    read_page: PageReader | None = None  # fetch_url reads HTML pages only with one
    hooks: WorkspaceHooks = WorkspaceHooks()


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    parameters: dict[str, Any]
    run: Callable[[dict[str, Any], ToolContext], Awaitable[str]]
    # Tools that write or execute wait for the user's approval before running.
    needs_approval: bool = False
    # What an "always" approval is tied to: "builtin", or an MCP server's identity
    # ("mcp:<hash of its command and args or URL>"), so a server re-created under the same name
    # with another command is asked about again (services/approvals.py).
    scope: str = "builtin"

    def spec(self) -> ToolSpec:
        return ToolSpec(self.name, self.description, self.parameters)
