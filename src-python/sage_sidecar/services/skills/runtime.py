"""What a reply of an agent with skills gets: the enabled skills' names and descriptions at the
end of its system prompt (only those: the prompt stays small however long the instructions are)
and the skill tools (tools/skills.py), with which the model loads a skill's instructions when a
task calls for it."""

from dataclasses import replace

from sage_sidecar.providers.base import ChatMessage
from sage_sidecar.services.skills.skill_md import SKILL_FILE, parse
from sage_sidecar.services.skills.store import SkillStore
from sage_sidecar.services.turn import Turn
from sage_sidecar.storage.skills import Skill
from sage_sidecar.tools.skills import EnabledSkill, skill_tools

PROMPT_HEAD = (
    "You have skills: folders of instructions for particular tasks. When the user's request "
    "matches a skill's description, call load_skill with its name before answering and follow "
    "the instructions it returns. Skills:"
)


def skills_prompt(skills: list[Skill]) -> str:
    return "\n".join([PROMPT_HEAD, *(f"- {s.name}: {s.description}" for s in skills)])


def _enabled(store: SkillStore, skill: Skill) -> EnabledSkill:
    def instructions() -> str:
        return parse(store.read(skill.id, SKILL_FILE).text).instructions

    return EnabledSkill(
        name=skill.name,
        folder=store.folder(skill.id),
        instructions=instructions,
        files=lambda: store.files(skill.id),
        read=lambda path, limit: store.read(skill.id, path, limit),
    )


async def equip(turn: Turn, store: SkillStore) -> None:
    """Add the agent's enabled skills to this reply: the prompt section and the tools."""
    async with turn.db.session() as session:
        skills = await store.enabled_for(session, turn.agent.id)
    if not skills:
        return
    section = skills_prompt(skills)
    history = turn.history
    if history and history[0].role == "system":
        history[0] = replace(history[0], content=f"{history[0].content}\n\n{section}")
    else:
        history.insert(0, ChatMessage("system", section))
    taken = {t.name for t in turn.tools}
    turn.tools += [t for t in skill_tools([_enabled(store, s) for s in skills])
                   if t.name not in taken]  # fmt: skip
