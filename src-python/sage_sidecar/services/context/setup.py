"""A reply's model parameters and context keeper, set on its Turn before the first model call:
the agent's parameters with the conversation's over them, less those the provider and model do
not take (providers/params.py), and the model's context window (limits.py)."""

from sage_sidecar.providers.params import takes_reasoning_effort, takes_seed
from sage_sidecar.schemas.model_params import ModelParams
from sage_sidecar.services.context.keeper import ContextKeeper
from sage_sidecar.services.context.limits import cache_key, context_window
from sage_sidecar.services.context.settings import default_tokens
from sage_sidecar.services.turn import Turn
from sage_sidecar.storage.models import Agent, Conversation


def agent_params(agent: Agent) -> ModelParams:
    return ModelParams(
        temperature=agent.temperature,
        top_p=agent.top_p,
        max_tokens=agent.max_tokens,
        stop=list(agent.stop or []) or None,
        seed=agent.seed,
        reasoning_effort=agent.reasoning_effort,
    )


def resolve(agent: Agent, override: dict[str, object], kind: str, model: str) -> ModelParams:
    """What the reply sends: the agent's, the conversation's over them, what the model takes."""
    merged = agent_params(agent).model_dump()
    merged.update({k: v for k, v in (override or {}).items() if v is not None and k in merged})
    params = ModelParams.model_validate(merged)
    if not takes_reasoning_effort(kind, model):
        params.reasoning_effort = None
    if not takes_seed(kind):
        params.seed = None
    return params


async def prepare(turn: Turn, kind: str, default_window: int) -> None:
    async with turn.db.session() as session:
        conversation = await session.get(Conversation, turn.stream.conversation_id)
        override = dict(conversation.model_params or {}) if conversation else {}
        default_window = await default_tokens(session, default_window)  # Settings → Chat
    turn.params = resolve(turn.agent, override, kind, turn.model)
    window = await context_window(turn.client, kind, turn.model, default_window)
    turn.context = ContextKeeper(turn.db, turn.stream.conversation_id, window,
                                 turn.agent.context_policy or "drop", turn.params.max_tokens,
                                 cache_key=cache_key(turn.client, kind, turn.model))  # fmt: skip
