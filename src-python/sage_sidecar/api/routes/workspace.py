"""Agents' workspaces: the file tree, uploads, downloads, previews, moves, folders and the trash.
Every path goes through the one confinement check (core/confinement.py); refused: 422
`workspace.path_refused` with the reason."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.responses import FileResponse

from sage_sidecar.api.deps import SessionDep, StateDep
from sage_sidecar.api.errors import COMMON_ERRORS, error_responses
from sage_sidecar.api.openapi import MULTIPART_FILES
from sage_sidecar.schemas.workspace import (
    FolderCreate,
    MoveRequest,
    PreviewOut,
    TrashItemOut,
    WorkspaceEntryOut,
    WorkspaceOut,
)
from sage_sidecar.services import agents
from sage_sidecar.services.workspace import Workspaces
from sage_sidecar.services.workspace_preview import RAW_HEADERS, content_type, preview

router = APIRouter(prefix="/api/workspaces/{agent_id}", tags=["workspaces"],
                   responses={**COMMON_ERRORS, **error_responses(404, 422)})  # fmt: skip
FilePath = Annotated[str, Query(max_length=4096, description="`/`-separated, inside the workspace")]


async def agent_workspace(agent_id: str, session: SessionDep, state: StateDep) -> Workspaces:
    """The workspaces, once `agent_id` is known to be an agent's (404 otherwise): the id becomes
    a folder name, so it is never taken from the client unchecked."""
    await agents.get_agent(session, agent_id)
    return state.workspaces


WorkspacesDep = Annotated[Workspaces, Depends(agent_workspace)]


@router.get("", response_model=WorkspaceOut)
async def get_workspace(agent_id: str, workspaces: WorkspacesDep) -> WorkspaceOut:
    """Every file and folder (parents first), with the space used, the limit and the trash."""
    return await workspaces.overview(agent_id)


@router.post(
    "/files",
    response_model=list[WorkspaceEntryOut],
    status_code=status.HTTP_201_CREATED,
    openapi_extra=MULTIPART_FILES,
    responses=error_responses(409, 413),
)
async def upload_files(
    agent_id: str, request: Request, workspaces: WorkspacesDep, folder: FilePath = ""
) -> list[WorkspaceEntryOut]:
    """Multipart upload into `folder`; a filename may hold a relative path (a dropped folder).
    Past the workspace's size limit: 413 `workspace.quota_exceeded`, and nothing is kept."""
    length = request.headers.get("content-length", "")
    return await workspaces.upload(
        agent_id, folder, request.headers.get("content-type", ""), request.stream(),
        int(length) if length.isdigit() else None,
    )  # fmt: skip


def _file_response(path_on_disk: str, name: str, disposition: str) -> FileResponse:
    return FileResponse(path_on_disk, media_type=content_type(name), filename=name,
                        content_disposition_type=disposition, headers=RAW_HEADERS)  # fmt: skip


@router.get("/download", response_class=FileResponse)
async def download_file(agent_id: str, path: FilePath, workspaces: WorkspacesDep) -> FileResponse:
    """The file's bytes, streamed, as an attachment."""
    found = workspaces.file_path(agent_id, path)
    return _file_response(str(found), found.name, "attachment")


@router.get("/raw", response_class=FileResponse)
async def raw_file(agent_id: str, path: FilePath, workspaces: WorkspacesDep) -> FileResponse:
    """The file's bytes, streamed, for a preview (image, PDF, HTML): served with a policy that
    runs no script and loads nothing (services/workspace_preview.py, RAW_HEADERS)."""
    found = workspaces.file_path(agent_id, path)
    return _file_response(str(found), found.name, "inline")


@router.get("/preview", response_model=PreviewOut)
async def preview_file(
    agent_id: str, path: FilePath, workspaces: WorkspacesDep, state: StateDep
) -> PreviewOut:
    """What the Workspace screen shows for a file: its type and safe content (see PreviewOut)."""
    found = workspaces.file_path(agent_id, path)
    return await preview(workspaces.folder(agent_id), found, state.knowledge.parser)


@router.post(
    "/folders",
    response_model=WorkspaceEntryOut,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(409),
)
async def make_folder(
    agent_id: str, data: FolderCreate, workspaces: WorkspacesDep
) -> WorkspaceEntryOut:
    return await workspaces.make_folder(agent_id, data.path)


@router.post("/move", response_model=WorkspaceEntryOut, responses=error_responses(409))
async def move_entry(
    agent_id: str, data: MoveRequest, workspaces: WorkspacesDep
) -> WorkspaceEntryOut:
    """Rename or move a file or folder; the new path must be free (409 `workspace.exists`)."""
    return await workspaces.move(agent_id, data.from_path, data.to_path)


@router.delete("/files", response_model=TrashItemOut)
async def delete_entry(agent_id: str, path: FilePath, workspaces: WorkspacesDep) -> TrashItemOut:
    """Move a file or folder to the workspace's trash (restore it from there)."""
    return await workspaces.delete(agent_id, path)


@router.get("/trash", response_model=list[TrashItemOut])
async def list_trash(agent_id: str, workspaces: WorkspacesDep) -> list[TrashItemOut]:
    return await workspaces.trash(agent_id)


@router.post(
    "/trash/{trash_id}/restore",
    response_model=WorkspaceEntryOut,
    responses=error_responses(409, 413),
)
async def restore_entry(
    agent_id: str, trash_id: str, workspaces: WorkspacesDep
) -> WorkspaceEntryOut:
    """Put it back where it was; 409 `workspace.exists` when that path is taken again."""
    return await workspaces.restore(agent_id, trash_id)


@router.delete("/trash", status_code=status.HTTP_204_NO_CONTENT)
async def empty_trash(agent_id: str, workspaces: WorkspacesDep) -> None:
    await workspaces.empty_trash(agent_id)
