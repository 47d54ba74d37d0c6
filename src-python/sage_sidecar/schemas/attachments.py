from pydantic import BaseModel


class AttachmentOut(BaseModel):
    """A file attached to a message: its text goes to the model with the message."""

    id: str
    name: str
    size: int
    chars: int  # characters of text extracted
    truncated: bool  # only the first MAX_CHARS characters are sent
