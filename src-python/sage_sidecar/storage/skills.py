"""The skills tables (migration 0014). A skill's files live on disk under
`storage/skills/<id>/` (services/skills); a row holds what the list and the prompt need without
reading a file, and `agent_skills` says which agents use which skills. Apart from models.py so
skills are one module per layer; it shares the one `Base`, so the metadata and the database agree.
"""

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from sage_sidecar.storage.models import Base, Timestamped, new_id


class Skill(Timestamped, Base):
    """`name` and `description` are copied from the front matter of the folder's SKILL.md each
    time it is written; `name` is unique (case-insensitively, checked by the service)."""

    __tablename__ = "skills"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(String(1024))
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)  # shipped with the app
    size: Mapped[int] = mapped_column(default=0)  # bytes of all its files
    file_count: Mapped[int] = mapped_column(default=0)


class AgentSkill(Base):
    """An agent uses a skill: its name and description go in the agent's system prompt."""

    __tablename__ = "agent_skills"

    agent_id: Mapped[str] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True
    )
    skill_id: Mapped[str] = mapped_column(
        ForeignKey("skills.id", ondelete="CASCADE"), primary_key=True, index=True
    )
