"""Per-agent workspace files under `storage/workspaces/<agent id>/`: list, read, write.

Every path goes through `core/confinement.py`, the same check as the Workspace API: absolute
paths, drive letters, `..`, Windows reserved names and any symbolic link on the way are refused,
so a model cannot read or write anything else on the machine. A write counts against the
workspace's size limit (`core/workspace_quota.py`) and is announced on `/ws/events`, so the
Workspace screen shows it as it happens.
"""

import asyncio
import os
from pathlib import Path
from typing import Any

from sage_sidecar.core.confinement import NOFOLLOW, PathRefused, confine, relative
from sage_sidecar.core.workspace_quota import QuotaExceeded, check_room
from sage_sidecar.tools.base import Tool, ToolContext, ToolError

MAX_READ_BYTES = 256_000
MAX_WRITE_BYTES = 1_000_000


def confined(workspace: Path, raw: str) -> Path:
    """`raw` inside the workspace, or a ToolError the model reads (the API raises PathRefused)."""
    try:
        return confine(workspace, raw)
    except PathRefused as error:
        raise ToolError(str(error)) from None


def _list(workspace: Path) -> str:
    if not workspace.exists():
        return "(empty workspace)"
    entries = []
    for path in sorted(workspace.rglob("*")):
        if path.is_symlink():
            continue
        rel = path.relative_to(workspace).as_posix()
        entries.append(f"{rel}/" if path.is_dir() else f"{rel} ({path.stat().st_size} bytes)")
    return "\n".join(entries) or "(empty workspace)"


async def _list_files(_args: dict[str, Any], ctx: ToolContext) -> str:
    return await asyncio.to_thread(_list, ctx.workspace)


def _read(path: Path) -> str:
    try:
        fd = os.open(path, os.O_RDONLY | NOFOLLOW)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise ToolError("no such file in the workspace") from None
    except OSError:  # ELOOP: a link swapped in after the check
        raise ToolError("that file cannot be read") from None
    with os.fdopen(fd, "rb") as file:
        if not os.path.isfile(path):
            raise ToolError("no such file in the workspace")
        data = file.read(MAX_READ_BYTES)
    return data.decode("utf-8", errors="replace")


async def _read_file(args: dict[str, Any], ctx: ToolContext) -> str:
    return await asyncio.to_thread(_read, confined(ctx.workspace, args.get("path", "")))


def _write(workspace: Path, path: Path, content: bytes, quota: int | None) -> str:
    if path.is_dir():
        raise ToolError("that path is a folder")
    replacing = path.stat().st_size if path.is_file() else 0
    try:
        check_room(workspace, quota, len(content), replacing)
    except QuotaExceeded as error:
        raise ToolError(str(error)) from None
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | NOFOLLOW, 0o644)
    except OSError:  # ELOOP: a link swapped in after the check
        raise ToolError("that file cannot be written") from None
    with os.fdopen(fd, "wb") as file:
        file.write(content)
    return f"wrote {len(content)} bytes"


async def _write_file(args: dict[str, Any], ctx: ToolContext) -> str:
    content = args.get("content")
    if not isinstance(content, str):
        raise ToolError("'content' (string) is required")
    data = content.encode()
    if len(data) > MAX_WRITE_BYTES:
        raise ToolError("content too large")
    ctx.workspace.mkdir(parents=True, exist_ok=True)
    target = confined(ctx.workspace, args.get("path", ""))
    result = await asyncio.to_thread(_write, ctx.workspace, target, data, ctx.hooks.quota_bytes)
    if ctx.hooks.written is not None:
        ctx.hooks.written(ctx.agent_id, relative(ctx.workspace, target))
    return result


_PATH = {"type": "string", "description": "Path relative to the workspace, e.g. notes/todo.md"}

WORKSPACE_TOOLS = (
    Tool("list_files", "List the files in this agent's workspace.",
         {"type": "object", "properties": {}}, _list_files),
    Tool("read_file", "Read a text file from this agent's workspace.",
         {"type": "object", "properties": {"path": _PATH}, "required": ["path"]}, _read_file),
    Tool("write_file", "Create or overwrite a text file in this agent's workspace.",
         {"type": "object", "properties": {"path": _PATH, "content": {"type": "string"}},
          "required": ["path", "content"]}, _write_file, needs_approval=True),
)  # fmt: skip
