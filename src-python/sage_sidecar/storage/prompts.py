"""The prompt library's table (migration 0015). Apart from models.py so the library is one module
per layer; it shares the one `Base`, so the metadata and the database agree."""

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sage_sidecar.storage.models import Base, Timestamped, new_id


class Prompt(Timestamped, Base):
    """A saved prompt. `content` is a template: `{{name}}` marks a variable filled in on insert."""

    __tablename__ = "prompts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(500), default="")
    content: Mapped[str] = mapped_column(Text)
