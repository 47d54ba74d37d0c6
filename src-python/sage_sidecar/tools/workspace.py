"""Per-agent workspace files under `storage/workspaces/<agent id>/`: list, read, write.

Every path is resolved inside the workspace: absolute paths, `..` and symlinks that lead out are
refused, so a model cannot read or write anything else on the machine.
"""

import asyncio
from pathlib import Path, PurePosixPath
from typing import Any

from sage_sidecar.tools.base import Tool, ToolContext, ToolError

MAX_READ_BYTES = 256_000
MAX_WRITE_BYTES = 1_000_000


def confined(workspace: Path, relative: str) -> Path:
    if not isinstance(relative, str) or not relative.strip():
        raise ToolError("'path' (string) is required")
    pure = PurePosixPath(relative.replace("\\", "/"))
    if pure.is_absolute() or relative.startswith(("/", "\\")) or ":" in pure.parts[0]:
        raise ToolError("absolute paths are not allowed; use a path inside the workspace")
    if ".." in pure.parts:
        raise ToolError("'..' is not allowed in workspace paths")
    root = workspace.resolve()
    target = (root / Path(*pure.parts)).resolve()  # follows symlinks
    if target != root and root not in target.parents:
        raise ToolError("that path leads outside the workspace")
    return target


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
    if not path.is_file():
        raise ToolError("no such file in the workspace")
    data = path.read_bytes()[:MAX_READ_BYTES]
    return data.decode("utf-8", errors="replace")


async def _read_file(args: dict[str, Any], ctx: ToolContext) -> str:
    return await asyncio.to_thread(_read, confined(ctx.workspace, args.get("path", "")))


def _write(path: Path, content: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")
    return f"wrote {len(content.encode())} bytes"


async def _write_file(args: dict[str, Any], ctx: ToolContext) -> str:
    content = args.get("content")
    if not isinstance(content, str):
        raise ToolError("'content' (string) is required")
    if len(content.encode()) > MAX_WRITE_BYTES:
        raise ToolError("content too large")
    ctx.workspace.mkdir(parents=True, exist_ok=True)
    target = confined(ctx.workspace, args.get("path", ""))
    return await asyncio.to_thread(_write, target, content)


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
