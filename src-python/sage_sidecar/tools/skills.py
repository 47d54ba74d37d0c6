"""The tools an agent with skills gets (services/skills/runtime.py adds them to its reply):
`load_skill` returns a skill's full instructions, `read_skill_file` one of its resources (confined
to the skill's folder, size-capped), and `run_skill_script` runs one of its Python scripts the way
`run_python` runs code: the same approval, capability check (`run_code` off: refused, see
tools/policy.py RUNS_CODE), process containment and limits (tools/python_runner.py)."""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sage_sidecar.core.errors import DomainError
from sage_sidecar.tools import python_runner
from sage_sidecar.tools.base import Tool, ToolContext, ToolError

MAX_RESOURCE_CHARS = 60_000  # of one file for the model (the chat keeps 20,000 of a result)
SKILL_FILE = "SKILL.md"


@dataclass(frozen=True)
class SkillFile:
    path: str  # `/`-separated, inside the skill's folder
    size: int


@dataclass(frozen=True)
class FileText:
    text: str  # "" for a binary file
    binary: bool
    truncated: bool
    size: int


@dataclass(frozen=True)
class EnabledSkill:
    """What the tools need of one skill the agent may use (services/skills/runtime.py)."""

    name: str
    folder: Path
    instructions: Callable[[], str]  # SKILL.md after its front matter; DomainError if unreadable
    files: Callable[[], list[SkillFile]]
    read: Callable[[str, int], FileText]  # (path, byte limit), confined to the folder


def _find(skills: dict[str, EnabledSkill], args: dict[str, Any]) -> EnabledSkill:
    name = str(args.get("name", "")).strip()
    skill = skills.get(name.lower())
    if skill is None:
        known = ", ".join(s.name for s in skills.values()) or "none"
        raise ToolError(f"no skill named {name!r} is enabled for this agent (enabled: {known})")
    return skill


def _read(skill: EnabledSkill, path: str, limit: int) -> FileText:
    try:
        return skill.read(path, limit)
    except DomainError as error:  # refused path, no such file
        raise ToolError(str(error)) from None


def skill_tools(enabled: list[EnabledSkill]) -> list[Tool]:
    skills = {s.name.lower(): s for s in enabled}

    async def load_skill(args: dict[str, Any], _ctx: ToolContext) -> str:
        skill = _find(skills, args)
        try:
            instructions = skill.instructions()
        except DomainError as error:  # edited on disk into something unreadable
            raise ToolError(f"the skill's SKILL.md cannot be read: {error}") from None
        others = [f"- {f.path} ({f.size} bytes)" for f in skill.files() if f.path != SKILL_FILE]
        listing = ("\n\nFiles in this skill (read_skill_file; run .py scripts with "
                   "run_skill_script):\n" + "\n".join(others)) if others else ""  # fmt: skip
        return f"# Skill: {skill.name}\n\n{instructions}{listing}"

    async def read_skill_file(args: dict[str, Any], _ctx: ToolContext) -> str:
        skill = _find(skills, args)
        found = _read(skill, str(args.get("path", "")), MAX_RESOURCE_CHARS)
        if found.binary:
            return f"(a binary file of {found.size} bytes; it cannot be shown as text)"
        note = f"\n(cut at {MAX_RESOURCE_CHARS} bytes of {found.size})" if found.truncated else ""
        return found.text + note

    async def run_skill_script(args: dict[str, Any], ctx: ToolContext) -> str:
        skill = _find(skills, args)
        path = str(args.get("path", ""))
        if not path.lower().endswith(".py"):
            raise ToolError("only Python scripts (.py) in a skill can be run")
        found = _read(skill, path, python_runner.MAX_CODE + 1)
        if found.binary or found.truncated or found.size > python_runner.MAX_CODE:
            raise ToolError("that script is too long or not text")
        ctx.workspace.mkdir(parents=True, exist_ok=True)
        try:
            return await python_runner.run_code(
                found.text, ctx.workspace, support=skill.folder, quota=ctx.hooks.quota_bytes
            )
        finally:
            if ctx.hooks.written is not None:  # a script may have written anything
                ctx.hooks.written(ctx.agent_id, None)

    name = {"type": "string", "description": "The skill's name, as listed in the system prompt"}
    path = {"type": "string", "description": "Path inside the skill's folder, e.g. template.md"}
    return [
        Tool("load_skill", "Load a skill's full instructions. Call it before a task that "
             "matches one of the skills listed in the system prompt, then follow them.",
             {"type": "object", "properties": {"name": name}, "required": ["name"]}, load_skill),
        Tool("read_skill_file", "Read a resource file of a skill (a template, a reference...).",
             {"type": "object", "properties": {"name": name, "path": path},
              "required": ["name", "path"]}, read_skill_file),
        Tool("run_skill_script", "Run one of a skill's Python scripts (needs the user's "
             "approval). Its working directory is this agent's workspace; $SKILL_DIR holds a "
             "copy of the skill's files. Returns the exit code and output.",
             {"type": "object", "properties": {"name": name, "path": path},
              "required": ["name", "path"]}, run_skill_script, needs_approval=True),
    ]  # fmt: skip
