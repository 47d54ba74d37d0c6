"""Skills: import (a .zip, or a folder's files with their relative paths), list, view, edit
SKILL.md, delete, export as .zip, the shipped skills back, and which agents use which skills.
Refusals are coded (`skill.*`, docs/skills.md); a name already taken is 409 `skill.exists` unless
the import says `replace=true`."""

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from pathlib import Path
from typing import Annotated, BinaryIO

from fastapi import APIRouter, Depends, Query, Request, Response, status
from python_multipart.multipart import parse_options_header
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from sage_sidecar.api.deps import SessionDep, StateDep
from sage_sidecar.api.errors import COMMON_ERRORS, error_responses
from sage_sidecar.api.openapi import MULTIPART_FILES
from sage_sidecar.core.errors import InvalidError, TooLargeError
from sage_sidecar.schemas.skills import (
    AgentSkillsOut,
    AgentSkillsUpdate,
    SkillDetailOut,
    SkillFileOut,
    SkillFileText,
    SkillMdUpdate,
    SkillOut,
    SkillPathImport,
)
from sage_sidecar.services import agents
from sage_sidecar.services.skills import builtin
from sage_sidecar.services.skills.bundle import MAX_FILES, MAX_UPLOAD_BYTES, Entry
from sage_sidecar.services.skills.store import SkillStore

router = APIRouter(tags=["skills"], responses=COMMON_ERRORS)


def skill_store(state: StateDep) -> SkillStore:
    return SkillStore(state.settings.storage_dir)


StoreDep = Annotated[SkillStore, Depends(skill_store)]


async def _capped(body: AsyncIterator[bytes]) -> AsyncGenerator[bytes, None]:
    received = 0
    async for chunk in body:
        received += len(chunk)
        if received > MAX_UPLOAD_BYTES:
            raise TooLargeError(f"a skill upload can be at most {MAX_UPLOAD_BYTES // 2**20} MB",
                                code="skill.upload_too_large", limit=MAX_UPLOAD_BYTES)  # fmt: skip
        yield chunk


def _stage_upload(store: SkillStore, files: list[UploadFile]) -> Path:
    """One .zip part: the archive. Otherwise every part is a file of a folder, its filename the
    path inside it (a picked or dropped folder's files, as the Workspace upload sends them)."""
    if len(files) == 1 and (files[0].filename or "").lower().endswith(".zip"):
        return store.stage_zip(files[0].file)  # type: ignore[arg-type]
    return store.stage([Entry(f.filename or "", f.size or 0, _rewound(f)) for f in files])


def _rewound(upload: UploadFile) -> Callable[[], BinaryIO]:
    def open_file() -> BinaryIO:
        upload.file.seek(0)
        return upload.file

    return open_file


@router.get("/api/skills", response_model=list[SkillOut])
async def list_skills(session: SessionDep, store: StoreDep) -> list[SkillOut]:
    return [SkillOut.model_validate(s) for s in await store.all(session)]


@router.post(
    "/api/skills/import",
    response_model=SkillOut,
    status_code=status.HTTP_201_CREATED,
    openapi_extra=MULTIPART_FILES,
    responses=error_responses(409, 413, 422),
)
async def import_skill(
    request: Request, session: SessionDep, store: StoreDep, replace: bool = False
) -> SkillOut:
    """A skill from a .zip (one file part) or a folder (a part per file, each filename its path
    in the folder). Checked before anything is kept (docs/skills.md): 422 `skill.*` with the
    reason, 413 past the size limits, 409 `skill.exists` for a name taken (send replace=true)."""
    media_type, options = parse_options_header(request.headers.get("content-type", ""))
    if media_type != b"multipart/form-data" or not options.get(b"boundary"):
        raise InvalidError("send a .zip or a folder's files as multipart/form-data",
                           code="skill.bad_upload", reason="not multipart/form-data")  # fmt: skip
    parser = MultiPartParser(request.headers, _capped(request.stream()),
                             max_files=MAX_FILES, max_fields=10)  # fmt: skip
    try:
        form = await parser.parse()
    except MultiPartException as error:
        if "Too many files" in str(error):
            raise InvalidError(f"a skill can hold at most {MAX_FILES} files",
                               code="skill.too_many_files", limit=MAX_FILES) from None  # fmt: skip
        raise InvalidError(f"the upload is not a valid multipart body ({error})",
                           code="skill.bad_upload", reason=str(error)) from None  # fmt: skip
    try:
        files = [v for _, v in form.multi_items() if isinstance(v, UploadFile)]
        if not files:
            raise InvalidError("send a .zip or a folder's files as multipart/form-data",
                               code="skill.empty")  # fmt: skip
        staged = await asyncio.to_thread(_stage_upload, store, files)
    finally:
        await form.close()
    skill = await store.install(session, staged, replace=replace)
    return SkillOut.model_validate(skill)


@router.post(
    "/api/skills/import-path",
    response_model=SkillOut,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(409, 413, 422),
)
async def import_skill_path(
    data: SkillPathImport, session: SessionDep, store: StoreDep
) -> SkillOut:
    """A skill folder (or .zip) on this computer, picked in the desktop's folder dialog: read by
    the sidecar, checked like an upload (422 `skill.not_a_folder` when it is neither)."""
    staged = await asyncio.to_thread(store.stage_path, data.path)
    return SkillOut.model_validate(await store.install(session, staged, replace=data.replace))


@router.post("/api/skills/builtin/restore", response_model=list[SkillOut])
async def restore_builtin(session: SessionDep, store: StoreDep) -> list[SkillOut]:
    """The shipped skills back as shipped (one edited or deleted is replaced or re-created)."""
    return [SkillOut.model_validate(s) for s in await builtin.restore(session, store, replace=True)]


@router.get("/api/skills/{skill_id}", response_model=SkillDetailOut, responses=error_responses(404))
async def get_skill(skill_id: str, session: SessionDep, store: StoreDep) -> SkillDetailOut:
    skill = await store.get(session, skill_id)
    text, files = await asyncio.gather(asyncio.to_thread(store.skill_md, skill.id),
                                       asyncio.to_thread(store.files, skill.id))  # fmt: skip
    return SkillDetailOut(**SkillOut.model_validate(skill).model_dump(), skill_md=text,
                          files=[SkillFileOut(path=f.path, size=f.size) for f in files])  # fmt: skip


@router.get(
    "/api/skills/{skill_id}/file", response_model=SkillFileText, responses=error_responses(404, 422)
)
async def read_skill_file(
    skill_id: str,
    session: SessionDep,
    store: StoreDep,
    path: Annotated[str, Query(max_length=4096)],
) -> SkillFileText:
    """One of the skill's files as text (binary: metadata only), confined to its folder."""
    skill = await store.get(session, skill_id)
    found = await asyncio.to_thread(store.read, skill.id, path)
    return SkillFileText(path=path, size=found.size, text=found.text, binary=found.binary,
                         truncated=found.truncated)  # fmt: skip


@router.put(
    "/api/skills/{skill_id}/skill-md",
    response_model=SkillOut,
    responses=error_responses(404, 409, 422),
)
async def update_skill_md(
    skill_id: str, data: SkillMdUpdate, session: SessionDep, store: StoreDep
) -> SkillOut:
    """Replace SKILL.md, checked as on import (front matter, name, description)."""
    return SkillOut.model_validate(await store.write_skill_md(session, skill_id, data.skill_md))


@router.delete(
    "/api/skills/{skill_id}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(404)
)
async def delete_skill(skill_id: str, session: SessionDep, store: StoreDep) -> None:
    """The skill and its files; agents that used it no longer do."""
    await store.delete(session, skill_id)


@router.get(
    "/api/skills/{skill_id}/export",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}}, **error_responses(404)},
)
async def export_skill(skill_id: str, session: SessionDep, store: StoreDep) -> Response:
    """The skill's folder as a .zip (one top folder named after it), as it imports again."""
    skill = await store.get(session, skill_id)
    data = await asyncio.to_thread(store.export_zip, skill)
    name = f"{skill.name}.zip".replace('"', "")
    return Response(data, media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})  # fmt: skip


@router.get(
    "/api/agents/{agent_id}/skills", response_model=AgentSkillsOut, responses=error_responses(404)
)
async def get_agent_skills(agent_id: str, session: SessionDep, store: StoreDep) -> AgentSkillsOut:
    await agents.get_agent(session, agent_id)
    return AgentSkillsOut(
        agent_id=agent_id, skill_ids=await store.agent_skill_ids(session, agent_id)
    )


@router.put(
    "/api/agents/{agent_id}/skills",
    response_model=AgentSkillsOut,
    responses=error_responses(404, 422),
)
async def set_agent_skills(
    agent_id: str, data: AgentSkillsUpdate, session: SessionDep, store: StoreDep
) -> AgentSkillsOut:
    """The skills this agent uses (replaces the list); unknown ids: 422 `skill.unknown_skills`."""
    ids = await store.set_agent_skills(session, agent_id, data.skill_ids)
    return AgentSkillsOut(agent_id=agent_id, skill_ids=ids)
