"""From the uploaded bytes to a list of parsed conversations: a `.zip` (a whole ChatGPT or Claude
data export) is opened for its `conversations.json`; the JSON is recognised by its shape, and
every refusal is a coded error the UI translates."""

import io
import json
import zipfile
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from sage_sidecar.core.errors import InvalidError, TooLargeError
from sage_sidecar.services.history_import import chatgpt, claude, sage
from sage_sidecar.services.history_import.parsed import ParsedConversation

MAX_UPLOAD = 200 * 1024 * 1024  # a heavy ChatGPT user's export zip is tens of MB
MAX_JSON = 512 * 1024 * 1024  # conversations.json unpacked; a zip claiming more is refused
MAX_CONVERSATIONS = 20_000
ZIP_MAGIC = b"PK\x03\x04"
_FORMATS: list[
    tuple[str, Callable[[Any], bool], Callable[[list[Any]], list[ParsedConversation]]]
] = [
    ("ChatGPT", chatgpt.looks_like, chatgpt.parse),
    ("Claude", claude.looks_like, claude.parse),
    ("Sage", sage.looks_like, sage.parse),
]


def parse_upload(data: bytes) -> list[ParsedConversation]:
    text = _json_bytes(data)
    try:
        document = json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise InvalidError(
            "the file is not JSON or a zip of a data export", code="import.unreadable"
        ) from None
    return parse_document(document)


def parse_document(document: Any) -> list[ParsedConversation]:
    items = document if isinstance(document, list) else [document]
    if not items:
        return []
    if len(items) > MAX_CONVERSATIONS:
        raise TooLargeError(
            f"the file holds more than {MAX_CONVERSATIONS} conversations",
            code="import.too_many",
            limit=MAX_CONVERSATIONS,
        )
    for name, looks_like, parse in _FORMATS:
        if looks_like(items[0]):
            try:
                return parse(items)
            except ValidationError as error:
                first = error.errors()[0]
                where = ".".join(str(p) for p in first["loc"])
                raise InvalidError(
                    f"the file is not a valid {name} export: {where}: {first['msg']}",
                    code="import.invalid",
                    where=where,
                ) from None
    raise InvalidError(
        "not a ChatGPT, Claude or Sage export (no conversations this version can read)",
        code="import.unknown_format",
    )


def _json_bytes(data: bytes) -> bytes:
    if not data.startswith(ZIP_MAGIC):
        return data
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = [
            i for i in archive.infolist() if i.filename.rsplit("/", 1)[-1] == "conversations.json"
        ]
        if not names:
            raise InvalidError(
                "the zip has no conversations.json", code="import.no_conversations_json"
            )
        entry = min(names, key=lambda i: i.filename.count("/"))  # the top-level one
        if entry.file_size > MAX_JSON:
            raise TooLargeError(
                "conversations.json is too large to import",
                code="import.too_large",
                limit=MAX_JSON,
            )
        with archive.open(entry) as stream:
            # The declared size can lie (a zip bomb): read one byte past the cap at most.
            unpacked = stream.read(MAX_JSON + 1)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError):
        raise InvalidError("the zip cannot be opened", code="import.unreadable") from None
    except RuntimeError:  # an encrypted entry
        raise InvalidError("the zip cannot be opened", code="import.unreadable") from None
    if len(unpacked) > MAX_JSON:
        raise TooLargeError(
            "conversations.json is too large to import", code="import.too_large", limit=MAX_JSON
        )
    return unpacked
