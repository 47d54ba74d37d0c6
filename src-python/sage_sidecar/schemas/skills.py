"""The Skills API's resources (services/skills)."""

from pydantic import BaseModel, ConfigDict, Field

from sage_sidecar.schemas.timestamps import UtcDateTime


class SkillOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str  # from SKILL.md's front matter; what the model passes to load_skill
    description: str  # the one line the agent's system prompt carries
    builtin: bool  # shipped with the app and not edited since
    size: int  # bytes of all its files
    file_count: int
    created_at: UtcDateTime
    updated_at: UtcDateTime


class SkillFileOut(BaseModel):
    path: str  # `/`-separated, inside the skill's folder
    size: int


class SkillDetailOut(SkillOut):
    skill_md: str  # the whole SKILL.md, front matter included
    files: list[SkillFileOut]


class SkillFileText(BaseModel):
    path: str
    size: int
    text: str  # "" for a binary file; at most 256 KB of the file
    binary: bool
    truncated: bool


class SkillMdUpdate(BaseModel):
    skill_md: str = Field(max_length=256 * 1024)


class AgentSkillsUpdate(BaseModel):
    skill_ids: list[str] = Field(max_length=200)


class AgentSkillsOut(BaseModel):
    agent_id: str
    skill_ids: list[str]


class SkillPathImport(BaseModel):
    """A skill folder or .zip on this computer, by absolute path (the desktop's folder dialog)."""

    path: str = Field(min_length=1, max_length=4096)
    replace: bool = False  # a skill of the same name is replaced (else 409 `skill.exists`)
