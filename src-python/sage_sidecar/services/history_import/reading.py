"""From the uploaded bytes to a list of parsed conversations: a `.zip` (a whole ChatGPT or Claude
data export) is opened for its `conversations.json`; the JSON is recognised by its shape, and
every refusal is a coded error the UI translates.

A big export is read one conversation at a time: the top-level array is walked with
`raw_decode`, and each conversation is validated and reduced to its imported branch before the
next is decoded, so only the file's text and one conversation's tree are in memory at once, not
the whole tree of every conversation (several times the file's size)."""

import io
import json
import re
import zipfile
from collections.abc import Callable, Iterator
from itertools import chain
from typing import Any

from pydantic import ValidationError

from sage_sidecar.core.errors import InvalidError, TooLargeError
from sage_sidecar.services.history_import import chatgpt, claude, sage
from sage_sidecar.services.history_import.parsed import ParsedConversation

MAX_UPLOAD = 200 * 1024 * 1024  # a heavy ChatGPT user's export zip is tens of MB
MAX_JSON = 512 * 1024 * 1024  # conversations.json unpacked; a zip claiming more is refused
MAX_CONVERSATIONS = 20_000
ZIP_MAGIC = b"PK\x03\x04"
_FORMATS: list[tuple[str, Callable[[Any], bool], Callable[[Any], ParsedConversation]]] = [
    ("ChatGPT", chatgpt.looks_like, chatgpt.parse_one),
    ("Claude", claude.looks_like, claude.parse_one),
    ("Sage", sage.looks_like, sage.parse_one),
]
_WHITESPACE = re.compile(r"[ \t\n\r]*")  # JSON's own


def _unreadable() -> InvalidError:
    return InvalidError("the file is not JSON or a zip of a data export", code="import.unreadable")


def parse_upload(data: bytes) -> list[ParsedConversation]:
    raw = _json_bytes(data)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _unreadable() from None
    return parse_items(_top_level_items(text))


def parse_items(items: Iterator[Any]) -> list[ParsedConversation]:
    first = next(items, None)
    if first is None:
        return []
    found = next((f for f in _FORMATS if f[1](first)), None)
    if found is None:
        raise InvalidError(
            "not a ChatGPT, Claude or Sage export (no conversations this version can read)",
            code="import.unknown_format",
        )
    name, _, parse_one = found
    parsed: list[ParsedConversation] = []
    for index, item in enumerate(chain([first], items)):
        if index >= MAX_CONVERSATIONS:
            raise TooLargeError(
                f"the file holds more than {MAX_CONVERSATIONS} conversations",
                code="import.too_many",
                limit=MAX_CONVERSATIONS,
            )
        try:
            parsed.append(parse_one(item))
        except ValidationError as error:
            problem = error.errors()[0]
            where = ".".join(str(p) for p in (index, *problem["loc"]))
            raise InvalidError(
                f"the file is not a valid {name} export: {where}: {problem['msg']}",
                code="import.invalid",
                where=where,
            ) from None
    return parsed


def _top_level_items(text: str) -> Iterator[Any]:
    """The elements of a top-level array one by one (a lone object is one element)."""
    decoder = json.JSONDecoder()

    def skip(at: int) -> int:
        match = _WHITESPACE.match(text, at)
        return match.end() if match else at

    def decode(at: int) -> tuple[Any, int]:
        try:
            return decoder.raw_decode(text, at)
        except (ValueError, RecursionError):
            raise _unreadable() from None

    at = skip(0)
    if not text.startswith("[", at):
        document, at = decode(at)
        if skip(at) != len(text):
            raise _unreadable()
        yield document
        return
    at = skip(at + 1)
    if text.startswith("]", at):
        at += 1
    else:
        while True:
            item, at = decode(at)
            yield item
            at = skip(at)
            if text.startswith(",", at):
                at = skip(at + 1)
            elif text.startswith("]", at):
                at += 1
                break
            else:
                raise _unreadable()
    if skip(at) != len(text):
        raise _unreadable()


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
        raise _unreadable() from None
    except RuntimeError:  # an encrypted entry
        raise _unreadable() from None
    if len(unpacked) > MAX_JSON:
        raise TooLargeError(
            "conversations.json is too large to import", code="import.too_large", limit=MAX_JSON
        )
    return unpacked
