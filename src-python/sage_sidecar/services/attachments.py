"""Files dropped on the composer. Unlike knowledge-base files they are not indexed: their text
(up to MAX_CHARS) travels with the message to the model. Uploads reuse the knowledge intake
(streamed, size-limited, sanitised names) and parsers (txt, md, html, pdf, docx).

Text is extracted, and images decoded and downscaled, by the knowledge parse workers
(`knowledge/parse_worker.py`): never inside the request's own process, with the same time budget
and memory limit as a knowledge-base file; a client that gives up mid-parse (the request is
cancelled) kills the worker.

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
from sage_sidecar.knowledge.intake import (
    StagedFile,
    check_kind,
    discard_all,
    place,
    stage_multipart,
)
from sage_sidecar.knowledge.parse_worker import ParserPool
from sage_sidecar.knowledge.parsers import ParseError
from sage_sidecar.schemas.attachments import AttachmentOut
from sage_sidecar.schemas.protocol.parts import AttachmentPart, ImagePart
from sage_sidecar.services import images
from sage_sidecar.storage.models import new_id

MAX_CHARS = 50_000
MAX_PER_MESSAGE = 10
_ID = re.compile(r"^[0-9a-f]{32}$")


def folder(settings: Settings) -> Path:
    return settings.storage_dir / "attachments"


def _kind_for(name: str) -> str:
    return "image" if images.is_image_name(name) else check_kind(name)


async def upload(
    settings: Settings, parser: ParserPool, content_type: str, body: AsyncIterator[bytes]
) -> list[AttachmentOut]:
    """Stage every file of a multipart body, extract its text, keep it. All or nothing: a file
    that cannot be read refuses the upload with its reason."""
    staged = await stage_multipart(
        content_type, body, folder(settings), settings.max_upload_bytes, _kind_for
    )
    texts: list[tuple[str, int]] = []
    try:
        for item in staged:
            if item.kind == "image":
                texts.append(("", 0))  # checked and stored below, not parsed
                continue
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
    try:
        for item, (text, chars) in zip(staged, texts, strict=True):
            attachment_id = new_id()
            record: dict[str, Any] = {"name": item.name, "size": item.size, "kind": item.kind,
                                      "text": text, "chars": chars}  # fmt: skip
            if item.kind == "image":  # decoded in a parse worker; only paths move here
                stem = folder(settings) / attachment_id
                stored = await images.normalise(parser, item.path, stem, item.name)
                await asyncio.to_thread(_keep_image, settings, item, stem, stored, record)
            else:
                await asyncio.to_thread(_keep, settings, item, attachment_id, record)
            results.append(_out(attachment_id, record))
    except BaseException:
        await asyncio.to_thread(discard_all, staged)
        raise
    return results


def _keep_image(
    settings: Settings, item: StagedFile, stem: Path, stored: images.StoredImage,
    record: dict[str, Any],
) -> None:  # fmt: skip
    """The staged original is dropped, the worker's reduced copy kept."""
    attachment_id = stem.name
    item.discard()
    record.update(mime=stored.mime, suffix=stored.suffix, width=stored.width,
                  height=stored.height, size=stem.with_suffix(stored.suffix).stat().st_size)  # fmt: skip
    (folder(settings) / f"{attachment_id}.json").write_text(json.dumps(record))


def image_path(settings: Settings, attachment_id: str) -> tuple[Path, str]:
    """The stored image of an attachment and its MIME type."""
    meta = folder(settings) / f"{attachment_id}.json"
    if not _ID.match(attachment_id) or not meta.exists():
        raise NotFoundError("attachment", attachment_id)
    record = json.loads(meta.read_text())
    if record.get("kind") != "image":
        raise NotFoundError("attachment", attachment_id)
    return folder(settings) / f"{attachment_id}{record['suffix']}", str(record["mime"])


def _keep(settings: Settings, item: StagedFile, attachment_id: str, record: dict[str, Any]) -> None:
    place(item, folder(settings) / f"{attachment_id}{item.path.suffix}")
    (folder(settings) / f"{attachment_id}.json").write_text(json.dumps(record))


def _out(attachment_id: str, record: dict[str, Any]) -> AttachmentOut:
    image = record.get("kind") == "image"
    return AttachmentOut(id=attachment_id, name=record["name"], size=record["size"],
                         chars=record["chars"], truncated=record["chars"] > MAX_CHARS,
                         kind="image" if image else "text", mime=record.get("mime"),
                         width=record.get("width"), height=record.get("height"))  # fmt: skip


def message_parts(settings: Settings, ids: list[str]) -> list[AttachmentPart | ImagePart]:
    """The `attachment` parts a user message keeps, text included."""
    if len(ids) > MAX_PER_MESSAGE:
        raise InvalidError(
            f"at most {MAX_PER_MESSAGE} attachments per message",
            code="attachment.too_many",
            max=MAX_PER_MESSAGE,
        )
    parts: list[AttachmentPart | ImagePart] = []
    for attachment_id in ids:
        path = folder(settings) / f"{attachment_id}.json"
        if not _ID.match(attachment_id) or not path.exists():
            raise NotFoundError("attachment", attachment_id)
        record = json.loads(path.read_text())
        if record.get("kind") == "image":
            parts.append(ImagePart(id=attachment_id, name=record["name"], size=record["size"],
                                   mime=record["mime"], width=record["width"],
                                   height=record["height"]))  # fmt: skip
            continue
        out = _out(attachment_id, record)
        parts.append(AttachmentPart(id=out.id, name=out.name, size=out.size, chars=out.chars,
                                    truncated=out.truncated, text=record["text"]))  # fmt: skip
    return parts


def images_for_model(where: Path | None, parts: list[dict[str, Any]]) -> list[str]:
    """Data URLs of a message's images stored in `where` (a missing file is left out)."""
    urls: list[str] = []
    if where is None:
        return urls
    for part in parts:
        if part.get("type") != "image":
            continue
        path = where / f"{part['id']}{images.suffix_of(str(part['mime']))}"
        if _ID.match(str(part["id"])) and path.exists():
            urls.append(images.data_url(path, str(part["mime"])))
    return urls


def for_model(content: str, parts: list[dict[str, Any]]) -> str:
    """The user's text followed by each attached file's text, marked with its name."""
    blocks = [
        f'<attachment name="{part["name"]}">\n{part["text"]}\n</attachment>'
        for part in parts
        if part.get("type") == "attachment"
    ]
    return "\n\n".join([content, *blocks]) if blocks else content


def export_images(settings: Settings, parts_of: list[list[dict[str, Any]]]) -> dict[str, str]:
    """Data URLs of every stored image in these messages' parts, by id: exports carry them."""
    images: dict[str, str] = {}
    for parts in parts_of:
        for part in parts:
            if part.get("type") == "image":
                urls = images_for_model(folder(settings), [part])
                if urls:
                    images[str(part["id"])] = urls[0]
    return images
