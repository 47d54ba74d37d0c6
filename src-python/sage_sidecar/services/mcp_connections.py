"""Live connections to MCP servers through the `mcp` SDK (`McpManager`); their configuration is
`mcp_servers.py`.

Connections open lazily (on first tool listing or call), each held open by its own task because
the SDK's context managers must be entered and left in one task. A server that fails to start or
crashes becomes a readable tool error; the next use starts it again. Shutdown closes every
connection: a stdio server gets CLOSE_GRACE_S to exit after its stdin closes (the MCP spec's
shutdown), then it and its children are killed.

A stdio server runs under the supervisor scripts run under (core/reaper.py: its whole tree ends
with it, and with the sidecar), in its own process group (so the SDK's `killpg` ends only it) but
in the sidecar's session, where the shell's sweep finds it if the sidecar itself is killed
(`_spawn_stdio_server` replaces the SDK's spawn, which would start a new session).
"""

import asyncio
import contextlib
import hashlib
import logging
import os
import shutil
import subprocess
import sys
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

import httpx

from sage_sidecar.core import network, processes, redaction
from sage_sidecar.core.processes import descendants, kill_tree
from sage_sidecar.schemas.mcp import McpToolOut
from sage_sidecar.services.mcp_start_errors import start_error, start_timeout
from sage_sidecar.storage.models import McpServer
from sage_sidecar.tools.base import Tool, ToolContext, ToolError

log = logging.getLogger(__name__)

PREFIX = "mcp__"


def server_scope(config: "ServerConfig") -> str:
    """The server's identity for approvals: what it runs (transport, command and args) or where
    it connects (URL), hashed; never its name, which a re-created server can reuse."""
    what = [config.transport, config.command or "", *config.args, config.url or ""]
    return "mcp:" + hashlib.sha256("\0".join(what).encode()).hexdigest()[:32]


START_TIMEOUT_S = 30.0
CALL_TIMEOUT_S = 120.0
CLOSE_GRACE_S = 1.0
# A server is a program the user chose to run, not untrusted code: no real limits (V8 and the JVM
# reserve far more address space than they use), only the supervisor's tree ownership.
SERVER_LIMITS = processes.Limits(
    cpu_seconds=10**9, memory_bytes=1 << 46, file_bytes=1 << 46, processes=1_000_000
)
MAX_TOOL_NAME = 64
# The pids of the stdio servers a connection's task spawned (set in that task's context).
_SPAWNED: ContextVar[list[int] | None] = ContextVar("mcp_spawned", default=None)


async def _spawn_stdio_server(
    command: str,
    args: list[str],
    env: dict[str, str] | None = None,
    errlog: TextIO = sys.stderr,
    cwd: Path | str | None = None,
) -> Any:
    """The SDK's process factory. The server runs under a supervisor (core/reaper.py, as scripts
    do) that ends the server's whole tree when the server exits, when told to (the SDK's SIGTERM)
    and when the sidecar dies, even a child that moved to a session of its own. The supervisor
    runs in its own process group but the sidecar's session (the shell's sweep)."""
    from anyio._core._eventloop import get_async_backend

    environment = dict(os.environ if env is None else env)
    spec = {
        "parent": os.getpid(),
        "argv": [shutil.which(command, path=environment.get("PATH")) or command, *args],
        "cwd": str(cwd or os.getcwd()),
        "limits": asdict(SERVER_LIMITS),
        "sandbox": None,
    }
    environment["PYTHONPATH"] = processes.PACKAGE_ROOT  # the supervisor's; not the server's
    process = await get_async_backend().open_process(
        processes.supervisor_command(spec), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=errlog, cwd=cwd, env=environment, startupinfo=None, creationflags=0,
        start_new_session=False, pass_fds=(), process_group=0,
    )  # fmt: skip
    if (spawned := _SPAWNED.get()) is not None:
        spawned.append(process.pid)
    return process


def _use_own_spawn() -> None:
    import mcp.client.stdio as sdk_stdio

    # Fails loudly (AttributeError) if an SDK upgrade renames the factory.
    assert callable(sdk_stdio._create_platform_compatible_process)
    if sys.platform != "win32":  # Windows: the SDK's Job object already ends the tree
        sdk_stdio._create_platform_compatible_process = _spawn_stdio_server


def namespaced(server: str, tool: str) -> str:
    return f"{PREFIX}{server}__{tool}"


@dataclass(frozen=True)
class ServerConfig:
    """A snapshot of the row: connections outlive database sessions."""

    id: str
    name: str
    transport: str
    command: str | None
    args: tuple[str, ...]
    env: tuple[tuple[str, str], ...]
    url: str | None
    headers: tuple[tuple[str, str], ...]
    trusted: bool

    @classmethod
    def of(cls, row: McpServer) -> "ServerConfig":
        # Tokens in its arguments and URL are secrets too: never in a log line or an error.
        redaction.KNOWN.add(
            *redaction.secrets_in_args(row.args), *redaction.secrets_in_url(row.url)
        )
        return cls(row.id, row.name, row.transport, row.command, tuple(row.args),
                   tuple(sorted(row.env.items())), row.url, tuple(sorted(row.headers.items())),
                   row.trusted)  # fmt: skip


@dataclass
class Connection:
    config: ServerConfig
    session: Any = None
    task: asyncio.Task[None] | None = None
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    pids: list[int] = field(default_factory=list)

    async def open(self) -> Any:
        ready: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.task = asyncio.create_task(self._hold(ready), name=f"mcp:{self.config.name}")
        try:
            self.session = await asyncio.wait_for(asyncio.shield(ready), START_TIMEOUT_S)
        except TimeoutError:
            await self.close()
            raise start_timeout(self.config.name, START_TIMEOUT_S) from None
        return self.session

    async def _hold(self, ready: asyncio.Future[Any]) -> None:
        from mcp import ClientSession, StdioServerParameters
        from mcp.client.stdio import stdio_client
        from mcp.client.streamable_http import streamable_http_client

        _use_own_spawn()
        _SPAWNED.set(self.pids)
        try:
            async with contextlib.AsyncExitStack() as stack:
                if self.config.transport == "stdio":
                    params = StdioServerParameters(
                        command=self.config.command or "", args=list(self.config.args),
                        env=dict(self.config.env) or None,
                    )  # fmt: skip
                    read, write = await stack.enter_async_context(stdio_client(params))
                else:
                    # The SDK's timeouts (30 s, 300 s for the event stream), through Settings →
                    # Network's proxy and CAs.
                    timeout = httpx.Timeout(30.0, read=300.0)
                    http = await stack.enter_async_context(
                        network.http_client(headers=dict(self.config.headers), timeout=timeout)
                    )
                    read, write, _ = await stack.enter_async_context(
                        streamable_http_client(self.config.url or "", http_client=http)
                    )
                session = await stack.enter_async_context(ClientSession(read, write))
                await session.initialize()
                ready.set_result(session)
                await self.stop.wait()
        except BaseException as error:  # noqa: BLE001 - reported to whoever waits for the start
            if not ready.done():
                detail = f"MCP server {self.config.name!r} failed to start: {_describe(error)}"
                url = redaction.KNOWN.redactor().text(self.config.url) if self.config.url else None
                path = dict(self.config.env).get("PATH")
                ready.set_exception(
                    start_error(self.config.name, self.config.command, url, error, detail, path)
                )
            if isinstance(error, asyncio.CancelledError):
                raise
        finally:
            self.session = None

    async def close(self) -> None:
        self.stop.set()
        if self.task is None:
            return
        await asyncio.wait({self.task}, timeout=CLOSE_GRACE_S)
        if not self.task.done():
            # It ignored the end of its stdin: end it and its children now rather than after the
            # SDK's own SIGTERM-then-SIGKILL escalation (4 s), which is all Windows has (the
            # SDK's spawn and Job object: no pids here).
            below = descendants(os.getpid()) if self.pids else []  # not exited, pid not reused
            for pid in self.pids:
                if pid in below:
                    kill_tree(pid)
            await asyncio.wait({self.task}, timeout=CLOSE_GRACE_S if self.pids else 5)
        if not self.task.done():
            self.task.cancel()


def _describe(error: BaseException) -> str:
    """An error in words, without secrets: an HTTP error quotes its URL (`?token=`), a failed
    start can quote the command line."""
    if isinstance(error, BaseExceptionGroup) and error.exceptions:
        return _describe(error.exceptions[0])
    text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return redaction.KNOWN.redactor().text(text)


class McpManager:
    def __init__(self) -> None:
        self._connections: dict[str, Connection] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def _session(self, config: ServerConfig) -> Any:
        async with self._locks.setdefault(config.id, asyncio.Lock()):
            connection = self._connections.get(config.id)
            alive = connection is not None and connection.session is not None
            if alive and connection.config == config and not connection.task.done():  # type: ignore[union-attr]
                return connection.session  # type: ignore[union-attr]
            if connection is not None:  # crashed, or its configuration changed
                await connection.close()
            connection = Connection(config)
            self._connections[config.id] = connection
            return await connection.open()

    async def list_tools(self, row: McpServer) -> list[McpToolOut]:
        config = ServerConfig.of(row)
        session = await self._session(config)
        try:
            result = await asyncio.wait_for(session.list_tools(), CALL_TIMEOUT_S)
        except Exception as error:
            await self.forget(config.id)
            raise ToolError(
                f"MCP server {config.name!r} failed to list tools: {_describe(error)}"
            ) from error
        return [
            McpToolOut(name=namespaced(config.name, t.name), description=t.description or "",
                       input_schema=t.inputSchema or {"type": "object"})
            for t in result.tools
            if len(namespaced(config.name, t.name)) <= MAX_TOOL_NAME
        ]  # fmt: skip

    async def call(self, config: ServerConfig, tool: str, arguments: dict[str, Any]) -> str:
        session = await self._session(config)
        try:
            result = await asyncio.wait_for(session.call_tool(tool, arguments), CALL_TIMEOUT_S)
        except Exception as error:
            # The server crashed or hung: drop the connection so the next use starts it afresh.
            await self.forget(config.id)
            raise ToolError(f"MCP server {config.name!r} failed: {_describe(error)}") from error
        text = "\n".join(getattr(item, "text", f"[{item.type} content]") for item in result.content)
        if result.isError:
            raise ToolError(text or "the MCP tool reported an error")
        return text

    async def tools_for(self, rows: list[McpServer]) -> tuple[list[Tool], list[str]]:
        """Tools of the given servers, and an error line for each server that could not start."""
        tools: list[Tool] = []
        errors: list[str] = []
        for row in rows:
            try:
                listed = await self.list_tools(row)
            except ToolError as error:
                errors.append(str(error))
                continue
            config = ServerConfig.of(row)
            for item in listed:
                tools.append(self._as_tool(config, item))
        return tools, errors

    def _as_tool(self, config: ServerConfig, item: McpToolOut) -> Tool:
        original = item.name.removeprefix(f"{PREFIX}{config.name}__")

        async def run(args: dict[str, Any], _ctx: ToolContext) -> str:
            return await self.call(config, original, args)

        return Tool(item.name, item.description, item.input_schema, run,
                    needs_approval=not config.trusted, scope=server_scope(config))  # fmt: skip

    async def forget(self, server_id: str) -> None:
        connection = self._connections.pop(server_id, None)
        if connection is not None:
            await connection.close()

    async def close_all(self) -> None:
        await asyncio.gather(*(self.forget(sid) for sid in list(self._connections)))
