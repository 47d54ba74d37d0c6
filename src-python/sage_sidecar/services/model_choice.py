"""Which agent, provider and model a conversation's next reply uses: decided here only, for the
chat engine and for the UI (which shows it; see `GET /api/conversations/{id}/model-choice`)."""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from sage_sidecar.schemas.conversations import ModelChoiceOut
from sage_sidecar.services import agents as agents_service
from sage_sidecar.storage.models import Agent, Provider


@dataclass(frozen=True)
class ModelChoice:
    agent: Agent
    provider: Provider | None  # None: no provider is set up (or none is enabled)
    model: str | None  # None: neither the conversation, the agent nor the provider names one
    default_model: str | None  # what `model` would be without the conversation's own pick


async def choose(session: AsyncSession, agent_id: str | None, picked: str | None) -> ModelChoice:
    """The agent (the default agent when `agent_id` is None or gone), its provider (the first
    enabled one when it names none) and the model: the conversation's pick, else the agent's,
    else the provider's default."""
    agent = (
        await session.get(Agent, agent_id) if agent_id else None
    ) or await agents_service.default_agent(session)
    provider = await session.get(Provider, agent.provider_id) if agent.provider_id else None
    if provider is None:
        provider = await session.scalar(
            select(Provider).where(Provider.enabled.is_(True)).order_by(Provider.created_at)
        )
    default_model = agent.model or (provider.default_model if provider else None)
    return ModelChoice(agent, provider, picked or default_model, default_model)


def to_out(choice: ModelChoice) -> ModelChoiceOut:
    provider = choice.provider
    return ModelChoiceOut(
        agent_id=choice.agent.id,
        provider_id=provider.id if provider else None,
        provider_name=provider.name if provider else None,
        model=choice.model,
        default_model=choice.default_model,
    )
