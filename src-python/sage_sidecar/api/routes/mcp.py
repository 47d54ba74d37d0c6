from fastapi import APIRouter, status

from sage_sidecar.api.deps import SessionDep, StateDep
from sage_sidecar.api.errors import COMMON_ERRORS, error_responses
from sage_sidecar.schemas.mcp import McpServerCreate, McpServerOut, McpServerUpdate, McpToolList
from sage_sidecar.services import mcp_servers as service
from sage_sidecar.services.mcp_start_errors import McpStartError
from sage_sidecar.tools.base import ToolError

router = APIRouter(prefix="/api/mcp-servers", tags=["mcp"], responses=COMMON_ERRORS)


@router.get("", response_model=list[McpServerOut])
async def list_servers(session: SessionDep) -> list[McpServerOut]:
    return [service.to_out(s) for s in await service.list_servers(session)]


@router.post(
    "",
    response_model=McpServerOut,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(409),
)
async def create_server(data: McpServerCreate, session: SessionDep) -> McpServerOut:
    return service.to_out(await service.create_server(session, data))


@router.get("/{server_id}", response_model=McpServerOut, responses=error_responses(404))
async def get_server(server_id: str, session: SessionDep) -> McpServerOut:
    return service.to_out(await service.get_server(session, server_id))


@router.patch("/{server_id}", response_model=McpServerOut, responses=error_responses(404))
async def update_server(
    server_id: str, data: McpServerUpdate, session: SessionDep, state: StateDep
) -> McpServerOut:
    server = await service.update_server(session, server_id, data)
    await state.mcp.forget(server_id)  # reconnect with the new settings on next use
    return service.to_out(server)


@router.delete(
    "/{server_id}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(404)
)
async def delete_server(server_id: str, session: SessionDep, state: StateDep) -> None:
    await service.delete_server(session, server_id)
    await state.mcp.forget(server_id)


@router.get("/{server_id}/tools", response_model=McpToolList, responses=error_responses(404))
async def list_tools(server_id: str, session: SessionDep, state: StateDep) -> McpToolList:
    """Start the server if needed and list its tools; a failure comes back as `ok: false`."""
    server = await service.get_server(session, server_id)
    try:
        return McpToolList(ok=True, tools=await state.mcp.list_tools(server))
    except McpStartError as error:
        return McpToolList(ok=False, error=str(error), code=error.code, params=error.params)
    except ToolError as error:
        return McpToolList(ok=False, error=str(error))
