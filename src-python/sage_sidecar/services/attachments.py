"""Files dropped on the composer. Unlike knowledge-base files they are not indexed: their text
(up to MAX_CHARS) travels with the message to the model. Uploads reuse the knowledge intake
(streamed, size-limited, sanitised names) and parsers (txt, md, html, pdf, docx).

Text is extracted by the knowledge parse workers (`knowledge/parse_worker.py`): never inside the
request's own process, with the same time budget and memory limit as a knowledge-base file; a
client that gives up mid-parse (the request is cancelled) kills the worker.

Each attachment is `<storage>/attachments/<id>.<ext>` (the file) and `<id>.json` (name, size,
text). Sending a message copies the text into the message's parts, so a conversation stays
complete on its own (history, export) whatever happens to the files.
"""

import asyncio
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from sage_sidecar.core.config import Settings
from sage_sidecar.core.errors import InvalidError, NotFoundError
from sage_sidecar.knowledge.intake import StagedFile, discard_all, place, stage_multipart
from sage_sidecar.knowledge.parse_worker import ParserPool
from sage_sidecar.knowledge.parsers import ParseError
from sage_sidecar.schemas.attachments import AttachmentOut
from sage_sidecar.schemas.protocol.parts import AttachmentPart
from sage_sidecar.storage.models import new_id

MAX_CHARS = 50_000
MAX_PER_MESSAGE = 10
_ID = re.compile(r"^[0-9a-f]{32}$")


def folder(settings: Settings) -> Path:
    return settings.storage_dir / "attachments"


async def upload(
    settings: Settings, parser: ParserPool, content_type: str, body: AsyncIterator[bytes]
) -> list[AttachmentOut]:
    """Stage every file of a multipart body, extract its text, keep it. All or nothing: a file
    that cannot be read refuses the upload with its reason."""
    staged = await stage_multipart(content_type, body, folder(settings), settings.max_upload_bytes)
    texts: list[tuple[str, int]] = []
    try:
        for item in staged:
            try:
                texts.append(await parser.text(item.path, item.kind, MAX_CHARS))
            except ParseError as error:
                raise InvalidError(
                    f"{item.name}: {error}", code="attachment.unreadable", name=item.name,
                    reason=str(error),
                ) from None  # fmt: skip
    except BaseException:  # unreadable, or the client went away mid-parse
        await asyncio.to_thread(discard_all, staged)
        raise
    results = []
    for item, (text, chars) in zip(staged, texts, strict=True):
        attachment_id = new_id()
        record = {"name": item.name, "size": item.size, "kind": item.kind, "text": text,
                  "chars": chars}  # fmt: skip
        await asyncio.to_thread(_keep, settings, item, attachment_id, record)
        results.append(_out(attachment_id, record))
    return results


def _keep(settings: Settings, item: StagedFile, attachment_id: str, record: dict[str, Any]) -> None:
    place(item, folder(settings) / f"{attachment_id}{item.path.suffix}")
    (folder(settings) / f"{attachment_id}.json").write_text(json.dumps(record))


def _out(attachment_id: str, record: dict[str, Any]) -> AttachmentOut:
    return AttachmentOut(id=attachment_id, name=record["name"], size=record["size"],
                         chars=record["chars"], truncated=record["chars"] > MAX_CHARS)  # fmt: skip


def message_parts(settings: Settings, ids: list[str]) -> list[AttachmentPart]:
    """The `attachment` parts a user message keeps, text included."""
    if len(ids) > MAX_PER_MESSAGE:
        raise InvalidError(
            f"at most {MAX_PER_MESSAGE} attachments per message",
            code="attachment.too_many",
            max=MAX_PER_MESSAGE,
        )
    parts = []
    for attachment_id in ids:
        path = folder(settings) / f"{attachment_id}.json"
        if not _ID.match(attachment_id) or not path.exists():
            raise NotFoundError("attachment", attachment_id)
        record = json.loads(path.read_text())
        out = _out(attachment_id, record)
        parts.append(AttachmentPart(**out.model_dump(), text=record["text"]))
    return parts


def for_model(content: str, parts: list[dict[str, Any]]) -> str:
    """The user's text followed by each attached file's text, marked with its name."""
    blocks = [
        f'<attachment name="{part["name"]}">\n{part["text"]}\n</attachment>'
        for part in parts
        if part.get("type") == "attachment"
    ]
    return "\n\n".join([content, *blocks]) if blocks else content
