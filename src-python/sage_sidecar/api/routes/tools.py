from fastapi import APIRouter
from pydantic import BaseModel

from sage_sidecar.api.errors import COMMON_ERRORS
from sage_sidecar.tools.registry import BUILTIN_TOOLS

router = APIRouter(prefix="/api/tools", tags=["tools"], responses=COMMON_ERRORS)


class ToolInfo(BaseModel):
    name: str
    description: str
    needs_approval: bool


@router.get("", response_model=list[ToolInfo])
async def list_builtin_tools() -> list[ToolInfo]:
    """The built-in tools an agent can enable (MCP servers add theirs as `mcp:<server>`)."""
    return [
        ToolInfo(name=t.name, description=t.description, needs_approval=t.needs_approval)
        for t in BUILTIN_TOOLS.values()
    ]
