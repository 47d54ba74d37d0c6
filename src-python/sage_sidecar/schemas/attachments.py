from typing import Literal

from pydantic import BaseModel


class AttachmentOut(BaseModel):
    """A file attached to a message: its text goes to the model with the message."""

    id: str
    name: str
    size: int
    chars: int  # characters of text extracted
    truncated: bool  # only the first MAX_CHARS characters are sent
    kind: Literal["text", "image"] = "text"  # an image is sent as it is, to models that see
    mime: str | None = None  # images: image/png, image/jpeg, image/webp
    width: int | None = None  # images: as stored (at most 2048 on the longest side)
    height: int | None = None
