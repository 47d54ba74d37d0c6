"""Files coming in: uploads (multipart, streamed) and paths the desktop app hands over, staged in
the knowledge base's folder while hashed and measured.

A staged file is a temp file in `<storage>/knowledge/<kb_id>/.incoming/`; the service then moves
it to its final name or, for a duplicate, deletes it. Limits are checked while bytes arrive, so an
oversized upload is refused without ever being held in memory or fully written.

Writes happen on the event loop in 64 KiB pieces: to the page cache that is microseconds, less
than a thread hop would cost. The fsync at the end of each file waits for the disk (milliseconds
to seconds), so it runs in a thread.
"""

import asyncio
import contextlib
import hashlib
import os
import re
import secrets
import shutil
import unicodedata
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from sage_sidecar.core.errors import DomainError, InvalidError, TooLargeError, UnsupportedError
from sage_sidecar.knowledge.parsers import SUPPORTED_KINDS, kind_of

MAX_NAME_LENGTH = 200
READ_SIZE = 64 * 1024


def too_large(name: str, limit: int) -> TooLargeError:
    size = f"{limit / 2**20:g} MB" if limit >= 2**20 else f"{limit // 1024} KB"
    return TooLargeError(
        f"{name} is larger than the {size} limit", code="file.too_large", name=name, limit=limit
    )


def safe_filename(name: str) -> str:
    """A display name with no path in it: the last component of whatever the client sent (both
    separators), without control characters, leading dots or spaces. Never used as a path on its
    own: stored files are named by their id."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").split("/")[-1]
    name = re.sub(r"\s+", " ", name)
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip(" .")
    if len(name) > MAX_NAME_LENGTH:
        stem, dot, suffix = name.rpartition(".")
        name = stem[: MAX_NAME_LENGTH - len(suffix) - 1] + dot + suffix if dot else name
    if not name or name in (".", ".."):
        raise InvalidError("the file name is empty", code="file.name_empty")
    return name


def check_kind(name: str) -> str:
    kind = kind_of(name)
    if kind is None:
        known = ", ".join(sorted(SUPPORTED_KINDS))
        raise UnsupportedError(
            f"{name}: this file type is not supported (supported: {known})",
            code="file.unsupported_type",
            name=name,
            supported=sorted(SUPPORTED_KINDS),
        )
    return kind


@dataclass
class StagedFile:
    name: str
    kind: str
    path: Path
    size: int = 0
    sha256: str = ""
    _hash: "hashlib._Hash" = field(default_factory=hashlib.sha256, repr=False)

    def write(self, data: bytes, out: BinaryIO, limit: int) -> None:
        self.size += len(data)
        if self.size > limit:
            raise too_large(self.name, limit)
        self._hash.update(data)
        out.write(data)

    def finish(self, out: BinaryIO) -> None:
        """Blocking (fsync): async callers run it in a thread."""
        out.flush()
        os.fsync(out.fileno())  # the row saying "queued" must not outlive the bytes
        self.sha256 = self._hash.hexdigest()

    def finish_and_close(self, out: BinaryIO) -> None:
        try:
            self.finish(out)
        finally:
            out.close()

    def discard(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


def _staging_path(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{secrets.token_hex(8)}.part"


def discard_all(staged: list[StagedFile]) -> None:
    for item in staged:
        item.discard()


def stage_paths(paths: list[str], folder: Path, limit: int) -> list[StagedFile]:
    """Copy files the desktop app picked (absolute paths, regular files) into staging. All or
    nothing: one bad path stages none. Blocking I/O: call it in a thread."""
    staged: list[StagedFile] = []
    try:
        for raw in paths:
            source = Path(raw)
            if not source.is_absolute():
                raise InvalidError(
                    f"{raw}: the path must be absolute", code="file.path_not_absolute", path=raw
                )
            try:
                info = source.stat()
            except FileNotFoundError:
                raise InvalidError(f"{raw}: no such file", code="file.missing", path=raw) from None
            except OSError as error:
                raise InvalidError(
                    f"{raw}: cannot read it ({error.strerror})", code="file.unreadable", path=raw,
                    reason=error.strerror,
                ) from None  # fmt: skip
            if not source.is_file():
                raise InvalidError(f"{raw}: not a regular file", code="file.not_regular", path=raw)
            name = safe_filename(source.name)
            kind = check_kind(name)
            if info.st_size > limit:
                raise too_large(name, limit)
            item = StagedFile(name, kind, _staging_path(folder))
            staged.append(item)
            try:
                with source.open("rb") as src, item.path.open("wb") as out:
                    while data := src.read(READ_SIZE):
                        item.write(data, out, limit)
                    item.finish(out)
            except PermissionError:
                raise InvalidError(
                    f"{raw}: permission denied", code="file.permission_denied", path=raw
                ) from None
    except BaseException:
        discard_all(staged)
        raise
    return staged


async def stage_multipart(
    content_type: str,
    body: AsyncIterator[bytes],
    folder: Path,
    limit: int,
    kind_for: Callable[[str], str] = check_kind,  # attachments also take images
) -> list[StagedFile]:
    """Every file part of a multipart/form-data body, streamed into staging. Other fields are
    ignored. All or nothing, like `stage_paths`."""
    media_type, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if media_type != b"multipart/form-data" or not boundary:
        raise InvalidError("send the files as multipart/form-data", code="upload.not_multipart")
    staged: list[StagedFile] = []
    state: dict[str, Any] = {"headers": {}, "name": b"", "value": b"", "file": None, "out": None}
    ended: list[tuple[StagedFile, BinaryIO]] = []  # parts whose bytes are in, not yet synced

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["name"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state["value"] += data[start:end]

    def on_header_end() -> None:
        state["headers"][state["name"].lower()] = state["value"]
        state["name"], state["value"] = b"", b""

    def on_headers_finished() -> None:
        _disposition, params = parse_options_header(
            state["headers"].get(b"content-disposition", b"")
        )
        state["headers"] = {}
        if b"filename" not in params:
            return  # a plain field
        name = safe_filename(params[b"filename"].decode("utf-8", errors="replace"))
        item = StagedFile(name, kind_for(name), _staging_path(folder))
        staged.append(item)
        state["file"], state["out"] = item, item.path.open("wb")

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if state["file"] is not None:
            state["file"].write(data[start:end], state["out"], limit)

    def on_part_end() -> None:
        if state["file"] is not None:
            ended.append((state["file"], state["out"]))
            state["file"], state["out"] = None, None

    async def sync_ended() -> None:
        while ended:
            item, out = ended[0]
            await asyncio.to_thread(item.finish_and_close, out)
            ended.pop(0)

    parser = MultipartParser(
        boundary,
        {"on_header_field": on_header_field, "on_header_value": on_header_value,
         "on_header_end": on_header_end, "on_headers_finished": on_headers_finished,
         "on_part_data": on_part_data, "on_part_end": on_part_end},
    )  # fmt: skip
    try:
        async for data in body:
            parser.write(data)
            await sync_ended()
        parser.finalize()
        await sync_ended()
        if state["file"] is not None:
            raise InvalidError("the upload ended in the middle of a file", code="upload.truncated")
    except BaseException as error:
        for out in [state["out"], *(out for _item, out in ended)]:
            if out is not None:
                out.close()
        discard_all(staged)
        if isinstance(error, DomainError):
            raise
        if isinstance(error, FormParserError):
            raise InvalidError(
                f"the multipart body is malformed ({error})", code="upload.malformed",
                reason=str(error),
            ) from None  # fmt: skip
        raise
    if not staged:
        raise InvalidError(
            "no file in the upload (send each as a form field with a filename)",
            code="upload.no_file",
        )
    return staged


def place(item: StagedFile, destination: Path) -> None:
    """Move a staged file to its final name (same folder tree, so an atomic rename)."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    os.replace(item.path, destination)


def remove_tree(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
