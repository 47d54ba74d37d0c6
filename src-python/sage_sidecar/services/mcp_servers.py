"""MCP servers' configuration: the rows, created, changed and listed. Connecting to them is
`mcp_connections.py`."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from sage_sidecar.core.errors import ConflictError
from sage_sidecar.core.urls import same_origin
from sage_sidecar.schemas.mcp import McpServerCreate, McpServerOut, McpServerUpdate
from sage_sidecar.storage import secrets
from sage_sidecar.storage.models import McpServer
from sage_sidecar.storage.rows import get_or_raise

AGENT_REF = "mcp:"  # an agent's `tools` entry "mcp:<server name>" enables all of its tools


def to_out(server: McpServer) -> McpServerOut:
    data = {c: getattr(server, c) for c in McpServerOut.model_fields if hasattr(server, c)}
    return McpServerOut(**data, env_keys=sorted(server.env), header_keys=sorted(server.headers))


async def list_servers(session: AsyncSession) -> list[McpServer]:
    return list((await session.scalars(select(McpServer).order_by(McpServer.name))).all())


async def get_server(session: AsyncSession, server_id: str) -> McpServer:
    return await get_or_raise(session, McpServer, server_id, "MCP server")


async def servers_named(session: AsyncSession, names: list[str]) -> list[McpServer]:
    if not names:
        return []
    query = select(McpServer).where(McpServer.name.in_(names), McpServer.enabled.is_(True))
    return list((await session.scalars(query)).all())


async def create_server(session: AsyncSession, data: McpServerCreate) -> McpServer:
    if await session.scalar(select(McpServer).where(McpServer.name == data.name)):
        raise ConflictError(
            f"an MCP server named {data.name!r} already exists",
            code="mcp_server.name_taken",
            name=data.name,
        )
    if data.env or data.headers:
        await secrets.BOX.ready()  # their values are sealed with the keychain's key
    server = McpServer(**data.model_dump())
    session.add(server)
    await session.commit()
    return server


async def update_server(session: AsyncSession, server_id: str, data: McpServerUpdate) -> McpServer:
    server = await get_server(session, server_id)
    changes = data.model_dump(exclude_unset=True)
    if changes.get("env") or changes.get("headers"):
        await secrets.BOX.ready()
    if changes.get("url") and changes.get("headers") is None:
        if not same_origin(server.url, changes["url"]):
            # Headers (tokens) were given for the old host: a new one gets them only when sent.
            server.headers = {}
    for key, value in changes.items():
        if value is not None:
            setattr(server, key, value)
    await session.commit()
    return server


async def delete_server(session: AsyncSession, server_id: str) -> None:
    await session.delete(await get_server(session, server_id))
    await session.commit()
