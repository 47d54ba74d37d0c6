"""Standing "always" approvals: one row per agent, tool and scope (what was approved: a built-in
tool, an MCP server's identity, a fetch_url domain), listed with when they were given and
revocable. The chat turn asks `granted` before prompting the user."""

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from sage_sidecar.core.errors import NotFoundError
from sage_sidecar.storage.models import ToolApproval


async def list_for(session: AsyncSession, agent_id: str) -> list[ToolApproval]:
    query = select(ToolApproval).where(ToolApproval.agent_id == agent_id)
    return list((await session.scalars(query.order_by(ToolApproval.granted_at))).all())


async def granted(session: AsyncSession, agent_id: str, tool: str, scope: str) -> bool:
    query = select(ToolApproval.id).where(
        ToolApproval.agent_id == agent_id, ToolApproval.tool == tool, ToolApproval.scope == scope
    )
    return await session.scalar(query) is not None


async def grant(session: AsyncSession, agent_id: str, tool: str, scope: str) -> None:
    if await granted(session, agent_id, tool, scope):
        return
    session.add(ToolApproval(agent_id=agent_id, tool=tool, scope=scope))
    try:
        await session.commit()
    except IntegrityError:  # the same "always" given twice at once, or the agent just deleted
        await session.rollback()


async def revoke(session: AsyncSession, agent_id: str, approval_id: str) -> None:
    row = await session.get(ToolApproval, approval_id)
    if row is None or row.agent_id != agent_id:
        raise NotFoundError("approval", approval_id)
    await session.delete(row)
    await session.commit()


async def drop_removed_tools(session: AsyncSession, agent_id: str, tools: list[str]) -> None:
    """Approvals only stand for tools the agent still has (built-ins by name; an MCP tool's
    approval goes with its server's `mcp:<name>` entry)."""
    rows = await list_for(session, agent_id)
    servers = {t.removeprefix("mcp:") for t in tools if t.startswith("mcp:")}
    for row in rows:
        if row.tool.startswith("mcp__"):
            keep = row.tool.removeprefix("mcp__").split("__", 1)[0] in servers
        else:
            keep = row.tool in tools
        if not keep:
            await session.execute(delete(ToolApproval).where(ToolApproval.id == row.id))
