"""The Workspace API's resources: an agent's files, its trash and file previews."""

from typing import Literal

from pydantic import BaseModel, Field

from sage_sidecar.schemas.timestamps import UtcDateTime

EntryKind = Literal["file", "folder", "link"]
# How the UI shows a file: text is sent in `text` (cut to `limit`), CSV as `rows`, DOCX as its
# extracted text; images, PDF and HTML are fetched from `/raw` (served inert); binary: metadata.
PreviewKind = Literal["text", "markdown", "code", "csv", "docx", "image", "pdf", "html", "binary"]
WorkspaceAction = Literal["written", "uploaded", "created", "moved", "deleted", "restored",
                          "trash_emptied"]  # fmt: skip


class WorkspaceEntryOut(BaseModel):
    path: str  # `/`-separated, relative to the workspace
    name: str
    kind: EntryKind  # a link is listed (so it can be deleted) but never followed
    size: int  # bytes; 0 for folders and links
    modified: UtcDateTime


class WorkspaceOut(BaseModel):
    agent_id: str
    entries: list[WorkspaceEntryOut]  # every file and folder, parents before children
    truncated: bool  # more than `MAX_ENTRIES`: the rest are not listed
    used_bytes: int
    quota_bytes: int
    trash_bytes: int


class FolderCreate(BaseModel):
    path: str = Field(max_length=4096)


class MoveRequest(BaseModel):
    """Rename and move are the same: `to_path` is the entry's new path."""

    from_path: str = Field(max_length=4096)
    to_path: str = Field(max_length=4096)


class TrashItemOut(BaseModel):
    id: str
    path: str  # where it was, and where a restore puts it back
    kind: EntryKind
    size: int
    deleted_at: UtcDateTime


class CsvTable(BaseModel):
    rows: list[list[str]]  # the first row is usually the header
    truncated: bool


class PreviewOut(BaseModel):
    path: str
    name: str
    size: int
    modified: UtcDateTime
    content_type: str
    preview: PreviewKind
    language: str | None  # code: the highlighter's language name
    text: str | None  # text, markdown, code, docx
    table: CsvTable | None  # csv
    truncated: bool  # `text` holds only the first `limit` characters (download for the rest)
    error: str | None  # docx that could not be read: why (the preview falls back to metadata)
