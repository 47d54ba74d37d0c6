"""The skills on disk and in the database. A skill is the folder `storage/skills/<id>/` (SKILL.md
plus its resources and scripts) and a row with its name, description and size; the row follows
the folder (written together; a folder is put in place before its row is committed and removed
if the commit fails). Names are unique, case-insensitively: the model loads a skill by name."""

import asyncio
import io
import os
import re
import secrets
import shutil
import zipfile
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from sage_sidecar.core.confinement import NOFOLLOW, confine
from sage_sidecar.core.errors import ConflictError, InvalidError, NotFoundError
from sage_sidecar.services.skills.bundle import (
    Entry,
    folder_entries,
    open_zip,
    unpack,
    zip_entries,
)
from sage_sidecar.services.skills.skill_md import SKILL_FILE, SkillDoc, parse
from sage_sidecar.storage.models import Agent, new_id
from sage_sidecar.storage.rows import get_or_raise
from sage_sidecar.storage.skills import AgentSkill, Skill
from sage_sidecar.tools.skills import FileText, SkillFile

SKILLS_FOLDER = "skills"
INCOMING_FOLDER = "skills-incoming"  # staging, beside the skills: moving into place is a rename
MAX_READ_BYTES = 256 * 1024  # of one resource, for the viewer and read_skill_file


class SkillStore:
    """The skills of one data dir (`storage_dir` is `<data dir>/storage`)."""

    def __init__(self, storage_dir: Path) -> None:
        self.root = storage_dir / SKILLS_FOLDER
        self.incoming = storage_dir / INCOMING_FOLDER

    def folder(self, skill_id: str) -> Path:
        if not re.fullmatch(r"[0-9a-f]{32}", skill_id):  # ids become folder names
            raise NotFoundError("skill", skill_id)
        return self.root / skill_id

    # --- reading -------------------------------------------------------------------------------

    async def all(self, session: AsyncSession) -> list[Skill]:
        return list((await session.scalars(select(Skill).order_by(func.lower(Skill.name)))).all())

    async def get(self, session: AsyncSession, skill_id: str) -> Skill:
        return await get_or_raise(session, Skill, skill_id, "skill")

    async def by_name(self, session: AsyncSession, name: str) -> Skill | None:
        query = select(Skill).where(func.lower(Skill.name) == name.strip().lower())
        return (await session.scalars(query)).first()

    def skill_md(self, skill_id: str) -> str:
        return (self.folder(skill_id) / SKILL_FILE).read_text(encoding="utf-8", errors="replace")

    def files(self, skill_id: str) -> list[SkillFile]:
        root = self.folder(skill_id)
        found = []
        for path in sorted(root.rglob("*")):
            if path.is_file() and not path.is_symlink():
                found.append(SkillFile(path.relative_to(root).as_posix(), path.stat().st_size))
        return found

    def read(self, skill_id: str, raw_path: str, limit: int = MAX_READ_BYTES) -> FileText:
        """One file of the skill, confined to its folder, at most `limit` bytes of it."""
        path = confine(self.folder(skill_id), raw_path)
        try:
            fd = os.open(path, os.O_RDONLY | NOFOLLOW)
        except OSError:
            raise NotFoundError("skill file", raw_path) from None
        with os.fdopen(fd, "rb") as file:
            if not path.is_file():
                raise NotFoundError("skill file", raw_path)
            size = os.fstat(file.fileno()).st_size
            data = file.read(limit)
        if b"\x00" in data[:8192]:
            return FileText("", True, False, size)
        return FileText(data.decode("utf-8", errors="replace"), False, size > limit, size)

    # --- writing -------------------------------------------------------------------------------

    def stage(self, entries: list[Entry]) -> Path:
        """Unpack into a new staging folder (checked: bundle.py); the caller installs it."""
        staging = self.incoming / secrets.token_hex(16)
        unpack(entries, staging)
        return staging

    def stage_zip(self, file: io.BufferedIOBase | io.BytesIO) -> Path:
        with open_zip(file) as archive:  # type: ignore[arg-type]
            return self.stage(zip_entries(archive))

    def stage_path(self, raw: str) -> Path:
        """A folder or a .zip on this computer, by absolute path (the desktop's dialog)."""
        path = Path(raw)
        if not path.is_absolute():
            raise InvalidError(f"{raw[:300]!r} is not an absolute path",
                               code="skill.not_a_folder", path=raw[:300])  # fmt: skip
        if raw.lower().endswith(".zip") and path.is_file() and not path.is_symlink():
            with path.open("rb") as file:
                return self.stage_zip(file)
        return self.stage(folder_entries(path))

    async def install(
        self, session: AsyncSession, staged: Path, *, replace: bool = False, builtin: bool = False
    ) -> Skill:
        """Make the staged folder a skill. A skill of the same name is a 409 `skill.exists`
        unless `replace`: then it is replaced in place (same id, so agents keep it enabled)."""
        try:
            doc = await asyncio.to_thread(_read_doc, staged)
            existing = await self.by_name(session, doc.name)
            if existing is not None and not replace:
                raise ConflictError(f"a skill named {existing.name!r} exists already",
                                    code="skill.exists", name=existing.name, id=existing.id)  # fmt: skip
            size, count = await asyncio.to_thread(_measure, staged)
            skill = existing or Skill(id=new_id())
            skill.name, skill.description = doc.name, doc.description
            skill.builtin, skill.size, skill.file_count = builtin, size, count
            old = await asyncio.to_thread(self._swap_in, staged, skill.id)
            if existing is None:
                session.add(skill)
            try:
                await session.commit()
            except BaseException as error:
                await asyncio.to_thread(self._swap_back, skill.id, old)
                if isinstance(error, IntegrityError):  # the same name, imported at the same time
                    raise ConflictError(f"a skill named {doc.name!r} exists already",
                                        code="skill.exists", name=doc.name, id="") from None  # fmt: skip
                raise
            if old is not None:
                await asyncio.to_thread(shutil.rmtree, old, True)
            return skill
        finally:
            await asyncio.to_thread(shutil.rmtree, staged, True)

    def _swap_in(self, staged: Path, skill_id: str) -> Path | None:
        """Put `staged` at the skill's folder; the folder it replaces, moved aside, is returned."""
        self.root.mkdir(parents=True, exist_ok=True)
        target = self.folder(skill_id)
        old = None
        if target.exists():
            old = self.incoming / f"old-{secrets.token_hex(8)}"
            os.replace(target, old)
        os.replace(staged, target)
        return old

    def _swap_back(self, skill_id: str, old: Path | None) -> None:
        """Undo `_swap_in` after its row could not be written: the previous files come back."""
        target = self.folder(skill_id)
        shutil.rmtree(target, ignore_errors=True)
        if old is not None:
            os.replace(old, target)

    async def write_skill_md(self, session: AsyncSession, skill_id: str, text: str) -> Skill:
        """Replace SKILL.md (checked like an import's); a new name must be free."""
        skill = await self.get(session, skill_id)
        doc = parse(text)
        other = await self.by_name(session, doc.name)
        if other is not None and other.id != skill.id:
            raise ConflictError(f"a skill named {other.name!r} exists already",
                                code="skill.exists", name=other.name, id=other.id)  # fmt: skip
        folder = self.folder(skill_id)
        await asyncio.to_thread(_write_atomic, folder / SKILL_FILE, text.encode())
        skill.name, skill.description = doc.name, doc.description
        skill.size, skill.file_count = await asyncio.to_thread(_measure, folder)
        skill.builtin = False  # edited: no longer what the app shipped
        await session.commit()
        return skill

    async def delete(self, session: AsyncSession, skill_id: str) -> None:
        skill = await self.get(session, skill_id)
        await session.delete(skill)  # and its agent_skills rows (ON DELETE CASCADE)
        await session.commit()
        await asyncio.to_thread(shutil.rmtree, self.folder(skill_id), True)

    def export_zip(self, skill: Skill) -> bytes:
        """The skill's folder as a zip with one top folder (its name), as skills are shared."""
        top = re.sub(r"[^A-Za-z0-9_.-]+", "-", skill.name).strip("-.") or "skill"
        buffer = io.BytesIO()
        root = self.folder(skill.id)
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for file in self.files(skill.id):
                archive.write(root / file.path, f"{top}/{file.path}")
        return buffer.getvalue()

    # --- agents --------------------------------------------------------------------------------

    async def agent_skill_ids(self, session: AsyncSession, agent_id: str) -> list[str]:
        query = select(AgentSkill.skill_id).where(AgentSkill.agent_id == agent_id)
        return list((await session.scalars(query)).all())

    async def enabled_for(self, session: AsyncSession, agent_id: str) -> list[Skill]:
        query = (
            select(Skill)
            .join(AgentSkill, AgentSkill.skill_id == Skill.id)
            .where(AgentSkill.agent_id == agent_id)
            .order_by(func.lower(Skill.name))
        )
        return list((await session.scalars(query)).all())

    async def set_agent_skills(
        self, session: AsyncSession, agent_id: str, skill_ids: list[str]
    ) -> list[str]:
        await get_or_raise(session, Agent, agent_id, "agent")
        wanted = list(dict.fromkeys(skill_ids))
        found = set(await session.scalars(select(Skill.id).where(Skill.id.in_(wanted))))
        if missing := [i for i in wanted if i not in found]:
            raise InvalidError(f"no skill with id {', '.join(missing)}",
                               code="skill.unknown_skills", ids=missing)  # fmt: skip
        await session.execute(delete(AgentSkill).where(AgentSkill.agent_id == agent_id))
        session.add_all(AgentSkill(agent_id=agent_id, skill_id=i) for i in wanted)
        await session.commit()
        return wanted


def _read_doc(staged: Path) -> SkillDoc:
    path = staged / SKILL_FILE
    if not path.is_file():
        raise InvalidError("there is no SKILL.md at the top of the skill's folder",
                           code="skill.missing_skill_md")  # fmt: skip
    return parse(path.read_text(encoding="utf-8", errors="replace"))


def _measure(folder: Path) -> tuple[int, int]:
    sizes = [p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink()]
    return sum(sizes), len(sizes)


def _write_atomic(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)
