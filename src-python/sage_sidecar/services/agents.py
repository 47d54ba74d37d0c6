"""Agents: CRUD, the default agent, JSON import/export."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from sage_sidecar.core.errors import ConflictError, InvalidError, NotFoundError
from sage_sidecar.schemas.agents import MCP_REF, AgentCreate, AgentExport, AgentFields, AgentUpdate
from sage_sidecar.services import approvals
from sage_sidecar.storage.models import Agent, KnowledgeBase, McpServer, Provider
from sage_sidecar.storage.rows import get_or_raise
from sage_sidecar.tools.registry import BUILTIN_TOOLS

# Fields an update may set back to null (the provider's default); the others ignore a null.
NULLABLE = ("provider_id", "model", "temperature", "max_tokens", "top_p", "seed",
            "reasoning_effort")  # fmt: skip

DEFAULT_AGENT = AgentFields(
    name="Sage",
    avatar="🌿",
    system_prompt="You are Sage, a helpful, concise assistant running on the user's own computer.",
    tools=["current_time", "calculator"],
)


async def list_agents(session: AsyncSession) -> list[Agent]:
    query = select(Agent).order_by(Agent.is_default.desc(), Agent.created_at)
    return list((await session.scalars(query)).all())


async def get_agent(session: AsyncSession, agent_id: str) -> Agent:
    return await get_or_raise(session, Agent, agent_id, "agent")


async def default_agent(session: AsyncSession) -> Agent:
    agent = await session.scalar(select(Agent).where(Agent.is_default.is_(True)))
    if agent is None:
        agent = Agent(**DEFAULT_AGENT.model_dump(), is_default=True)
        session.add(agent)
        await session.commit()
    return agent


async def _check_provider(session: AsyncSession, provider_id: str | None) -> None:
    if provider_id is not None and await session.get(Provider, provider_id) is None:
        raise NotFoundError("provider", provider_id)


def _check_tool_names(tools: list[str] | None) -> None:
    unknown = sorted(t for t in set(tools or []) - BUILTIN_TOOLS.keys() if not MCP_REF.match(t))
    if unknown:
        raise InvalidError(
            f"unknown tools: {', '.join(unknown)} (known: {', '.join(BUILTIN_TOOLS)})",
            code="agent.unknown_tools",
            tools=unknown,
            known=list(BUILTIN_TOOLS),
        )


async def _check_mcp_refs(session: AsyncSession, tools: list[str] | None) -> None:
    _check_tool_names(tools)
    wanted = {t.removeprefix("mcp:") for t in tools or [] if t.startswith("mcp:")}
    if not wanted:
        return
    found = set(await session.scalars(select(McpServer.name).where(McpServer.name.in_(wanted))))
    if missing := sorted(wanted - found):
        raise InvalidError(
            f"no MCP server named {', '.join(missing)}", code="agent.unknown_mcp_servers",
            names=missing,
        )  # fmt: skip


async def _check_knowledge_bases(session: AsyncSession, kb_ids: list[str] | None) -> None:
    if not kb_ids:
        return
    found = set(await session.scalars(select(KnowledgeBase.id).where(KnowledgeBase.id.in_(kb_ids))))
    if missing := sorted(set(kb_ids) - found):
        raise InvalidError(
            f"no knowledge base with id {', '.join(missing)}",
            code="agent.unknown_knowledge_bases",
            ids=missing,
        )


async def create_agent(session: AsyncSession, data: AgentCreate) -> Agent:
    await _check_provider(session, data.provider_id)
    await _check_mcp_refs(session, data.tools)
    await _check_knowledge_bases(session, data.knowledge_base_ids)
    agent = Agent(**data.model_dump())
    session.add(agent)
    await session.commit()
    return agent


async def update_agent(session: AsyncSession, agent_id: str, data: AgentUpdate) -> Agent:
    agent = await get_agent(session, agent_id)
    changes = data.model_dump(exclude_unset=True)
    if "provider_id" in changes:
        await _check_provider(session, changes["provider_id"])
    await _check_mcp_refs(session, changes.get("tools"))
    await _check_knowledge_bases(session, changes.get("knowledge_base_ids"))
    for field, value in changes.items():
        if value is not None or field in NULLABLE:
            setattr(agent, field, value)
    if "tools" in changes:
        await approvals.drop_removed_tools(session, agent.id, agent.tools)
    await session.commit()
    return agent


async def delete_agent(session: AsyncSession, agent_id: str) -> None:
    agent = await get_agent(session, agent_id)
    if agent.is_default:
        raise ConflictError("the default agent cannot be deleted", code="agent.default_undeletable")
    await session.delete(agent)
    await session.commit()


def export_agent(agent: Agent) -> AgentExport:
    fields = AgentFields.model_validate(agent, from_attributes=True)
    return AgentExport(agent=fields)


async def import_agent(session: AsyncSession, data: AgentExport) -> Agent:
    _check_tool_names(data.agent.tools)
    agent = Agent(**data.agent.model_dump())
    session.add(agent)
    await session.commit()
    return agent
