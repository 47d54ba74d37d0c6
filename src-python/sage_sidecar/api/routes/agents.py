from fastapi import APIRouter, status

from sage_sidecar.api.deps import SessionDep
from sage_sidecar.api.errors import COMMON_ERRORS, error_responses
from sage_sidecar.schemas.agents import (
    AgentCreate,
    AgentExport,
    AgentOut,
    AgentUpdate,
    ApprovalOut,
)
from sage_sidecar.schemas.conversations import ModelChoiceOut
from sage_sidecar.services import agents as service
from sage_sidecar.services import approvals, model_choice

router = APIRouter(prefix="/api/agents", tags=["agents"], responses=COMMON_ERRORS)


@router.get("", response_model=list[AgentOut])
async def list_agents(session: SessionDep) -> list[AgentOut]:
    return [AgentOut.model_validate(a) for a in await service.list_agents(session)]


@router.post(
    "", response_model=AgentOut, status_code=status.HTTP_201_CREATED, responses=error_responses(404)
)
async def create_agent(data: AgentCreate, session: SessionDep) -> AgentOut:
    return AgentOut.model_validate(await service.create_agent(session, data))


@router.post(
    "/import",
    response_model=AgentOut,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(404),
)
async def import_agent(data: AgentExport, session: SessionDep) -> AgentOut:
    return AgentOut.model_validate(await service.import_agent(session, data))


@router.get("/{agent_id}", response_model=AgentOut, responses=error_responses(404))
async def get_agent(agent_id: str, session: SessionDep) -> AgentOut:
    return AgentOut.model_validate(await service.get_agent(session, agent_id))


@router.get(
    "/{agent_id}/model-choice", response_model=ModelChoiceOut, responses=error_responses(404)
)
async def get_model_choice(agent_id: str, session: SessionDep) -> ModelChoiceOut:
    """The provider and model a new conversation with this agent will use."""
    agent = await service.get_agent(session, agent_id)
    return model_choice.to_out(await model_choice.choose(session, agent.id, None))


@router.patch("/{agent_id}", response_model=AgentOut, responses=error_responses(404))
async def update_agent(agent_id: str, data: AgentUpdate, session: SessionDep) -> AgentOut:
    return AgentOut.model_validate(await service.update_agent(session, agent_id, data))


@router.delete(
    "/{agent_id}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(404, 409)
)
async def delete_agent(agent_id: str, session: SessionDep) -> None:
    await service.delete_agent(session, agent_id)


@router.get("/{agent_id}/export", response_model=AgentExport, responses=error_responses(404))
async def export_agent(agent_id: str, session: SessionDep) -> AgentExport:
    return service.export_agent(await service.get_agent(session, agent_id))


@router.get(
    "/{agent_id}/approvals", response_model=list[ApprovalOut], responses=error_responses(404)
)
async def list_approvals(agent_id: str, session: SessionDep) -> list[ApprovalOut]:
    """Every standing "always" the user gave this agent, oldest first."""
    await service.get_agent(session, agent_id)
    return [ApprovalOut.model_validate(a) for a in await approvals.list_for(session, agent_id)]


@router.delete(
    "/{agent_id}/approvals/{approval_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(404),
)
async def revoke_approval(agent_id: str, approval_id: str, session: SessionDep) -> None:
    """The tool asks again from its next call on."""
    await approvals.revoke(session, agent_id, approval_id)
