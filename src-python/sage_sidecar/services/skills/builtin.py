"""The skills shipped with the app (sage_sidecar/skills_builtin/<name>/, bundled as data in the
frozen build). They are copied in once, at the first start of a data dir, so a user who deletes or
edits one keeps that choice; "restore" on the Skills screen puts them back as shipped."""

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from sage_sidecar.services import app_meta
from sage_sidecar.services.skills.bundle import folder_entries
from sage_sidecar.services.skills.skill_md import SKILL_FILE, parse
from sage_sidecar.services.skills.store import SkillStore
from sage_sidecar.storage.models import AppMeta
from sage_sidecar.storage.skills import Skill

SHIPPED = Path(__file__).resolve().parents[2] / "skills_builtin"
SEEDED_KEY = "skills_seeded"


def shipped_folders() -> list[Path]:
    return sorted(p for p in SHIPPED.iterdir() if (p / "SKILL.md").is_file())


async def restore(session: AsyncSession, store: SkillStore, *, replace: bool) -> list[Skill]:
    """Install every shipped skill; one of the same name is replaced only when `replace`."""
    installed = []
    for folder in shipped_folders():
        doc = parse((folder / SKILL_FILE).read_text(encoding="utf-8"))
        if not replace and await store.by_name(session, doc.name) is not None:
            continue
        staged = store.stage(folder_entries(folder))
        installed.append(await store.install(session, staged, replace=True, builtin=True))
    return installed


async def seed_once(session: AsyncSession, store: SkillStore) -> None:
    """At a data dir's first start (or the first since skills came): the shipped skills."""
    if await session.get(AppMeta, SEEDED_KEY) is not None:
        return
    await restore(session, store, replace=False)
    await app_meta.set_value(session, SEEDED_KEY, "1")
    await session.commit()
