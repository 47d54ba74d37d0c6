"""Agents' workspaces as people see them: the file tree, uploads, moves, new folders, and a trash.

An agent's workspace is `<storage>/workspaces/<agent id>/` (its file tools and `run_python` work
there); its trash is `<storage>/workspace-trash/<agent id>/`, outside the workspace, so the agent's
tools cannot reach what was deleted. Each trashed entry is `<trash id>/item` (the file or folder,
moved as it was) and `<trash id>/meta.json` (where it was, when). Uploads are staged in the trash
folder's `.incoming/` (same disk, so placing them is a rename) and count against the workspace's
size limit while they arrive.

Every path a client sends goes through `core/confinement.py` (see there for what is refused).
Every change is announced on `/ws/events` as `workspace.changed`.
"""

import asyncio
import os
import re
import secrets
import shutil
import stat
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, Literal

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from sage_sidecar.core.confinement import NOFOLLOW, PathRefused, confine, path_parts, relative
from sage_sidecar.core.errors import ConflictError, InvalidError, NotFoundError
from sage_sidecar.core.events import EventBus
from sage_sidecar.core.workspace_quota import QuotaExceeded, check_room, used_bytes
from sage_sidecar.schemas.protocol.events import WorkspaceChanged
from sage_sidecar.schemas.workspace import (
    EntryKind,
    TrashItemOut,
    WorkspaceAction,
    WorkspaceEntryOut,
    WorkspaceOut,
)
from sage_sidecar.tools.base import WorkspaceHooks

WORKSPACES_FOLDER = "workspaces"
TRASH_FOLDER = "workspace-trash"
MAX_ENTRIES = 5_000  # listed per workspace; the rest is marked truncated
MAX_UPLOAD_FILES = 1_000
MULTIPART_OVERHEAD = (
    64 * 1024
)  # boundaries and part headers: a body this much over the room may still fit
_TRASH_ID = re.compile(r"^[0-9a-f]{32}$")


def _kind(info: os.stat_result) -> EntryKind:
    if stat.S_ISLNK(info.st_mode):
        return "link"
    return "folder" if stat.S_ISDIR(info.st_mode) else "file"


def _when(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def entry_of(root: Path, path: Path) -> WorkspaceEntryOut:
    info = path.lstat()
    kind = _kind(info)
    return WorkspaceEntryOut(path=relative(root, path), name=path.name, kind=kind,
                             size=info.st_size if kind == "file" else 0,
                             modified=_when(info.st_mtime))  # fmt: skip


@dataclass
class _Upload:
    path: Path  # where it goes
    staged: Path
    out: BinaryIO | None = None


class Workspaces:
    """The workspaces of one sidecar process (created in app.py)."""

    def __init__(self, storage_dir: Path, quota_bytes: int, events: EventBus | None) -> None:
        self.storage_dir = storage_dir
        self.quota_bytes = quota_bytes
        self.events = events

    def folder(self, agent_id: str) -> Path:
        return self.storage_dir / WORKSPACES_FOLDER / agent_id

    def trash_folder(self, agent_id: str) -> Path:
        return self.storage_dir / TRASH_FOLDER / agent_id

    def tool_hooks(self) -> WorkspaceHooks:
        """For the chat engine: the agent's writes count against the limit and are announced."""

        def written(agent_id: str, path: str | None) -> None:
            self._announce(agent_id, "written", path, by="agent")

        return WorkspaceHooks(quota_bytes=self.quota_bytes, written=written)

    def _announce(self, agent_id: str, action: WorkspaceAction, path: str | None,
                  to_path: str | None = None, by: Literal["agent", "user"] = "user") -> None:  # fmt: skip
        if self.events is not None:
            self.events.publish(WorkspaceChanged(agent_id=agent_id, action=action, path=path,
                                                 to_path=to_path, by=by))  # fmt: skip

    def _root(self, agent_id: str) -> Path:
        root = self.folder(agent_id)
        root.mkdir(parents=True, exist_ok=True)
        return root

    # --- reading ---------------------------------------------------------------------------

    async def overview(self, agent_id: str) -> WorkspaceOut:
        return await asyncio.to_thread(self._overview, agent_id)

    def _overview(self, agent_id: str) -> WorkspaceOut:
        root = self._root(agent_id)
        entries: list[WorkspaceEntryOut] = []
        truncated = False
        for folder, dirs, files in os.walk(root, followlinks=False):
            dirs.sort()
            for name in [*dirs, *sorted(files)]:
                if len(entries) >= MAX_ENTRIES:
                    truncated = True
                    break
                try:
                    entries.append(entry_of(root, Path(folder) / name))
                except OSError:
                    continue  # gone while we looked
            if truncated:
                break
        entries.sort(key=lambda e: e.path.split("/"))
        trash = self.trash_folder(agent_id)
        return WorkspaceOut(agent_id=agent_id, entries=entries, truncated=truncated,
                            used_bytes=used_bytes(root), quota_bytes=self.quota_bytes,
                            trash_bytes=used_bytes(trash) if trash.exists() else 0)  # fmt: skip

    def file_path(self, agent_id: str, raw: str) -> Path:
        """A regular file inside the workspace (download, preview), or the coded error."""
        path = confine(self._root(agent_id), raw)
        try:
            info = path.lstat()
        except FileNotFoundError:
            raise NotFoundError("file", raw) from None
        if not stat.S_ISREG(info.st_mode):
            raise InvalidError(f"{raw!r} is not a file", code="workspace.not_a_file", path=raw)
        return path

    # --- changing --------------------------------------------------------------------------

    async def make_folder(self, agent_id: str, raw: str) -> WorkspaceEntryOut:
        def run() -> WorkspaceEntryOut:
            root = self._root(agent_id)
            path = confine(root, raw)
            if path.exists() or path.is_symlink():
                raise _exists(raw)
            path.mkdir(parents=True)
            return entry_of(root, path)

        entry = await asyncio.to_thread(run)
        self._announce(agent_id, "created", entry.path)
        return entry

    async def move(self, agent_id: str, from_raw: str, to_raw: str) -> WorkspaceEntryOut:
        """Rename or move a file, folder or link (a link moves as itself, never its target)."""

        def run() -> WorkspaceEntryOut:
            root = self._root(agent_id)
            source = confine(root, from_raw, last_may_be_link=True)
            target = confine(root, to_raw)
            if not (source.exists() or source.is_symlink()):
                raise NotFoundError("file", from_raw)
            if target.exists() or target.is_symlink():
                raise _exists(to_raw)
            if source == target or source in target.parents:
                raise InvalidError("a folder cannot move into itself", code="workspace.into_itself",
                                   path=from_raw)  # fmt: skip
            target.parent.mkdir(parents=True, exist_ok=True)
            os.rename(source, target)
            return entry_of(root, target)

        entry = await asyncio.to_thread(run)
        self._announce(agent_id, "moved", _clean(from_raw), to_path=entry.path)
        return entry

    async def delete(self, agent_id: str, raw: str) -> TrashItemOut:
        """Move a file, folder or link to the trash."""

        def run() -> TrashItemOut:
            root = self._root(agent_id)
            path = confine(root, raw, last_may_be_link=True)
            try:
                info = path.lstat()
            except FileNotFoundError:
                raise NotFoundError("file", raw) from None
            item = TrashItemOut(id=secrets.token_hex(16), path=relative(root, path),
                                kind=_kind(info), size=_size_of(path, info),
                                deleted_at=datetime.now(UTC))  # fmt: skip
            slot = self.trash_folder(agent_id) / item.id
            slot.mkdir(parents=True)
            (slot / "meta.json").write_text(item.model_dump_json())
            os.rename(path, slot / "item")
            return item

        item = await asyncio.to_thread(run)
        self._announce(agent_id, "deleted", item.path)
        return item

    async def trash(self, agent_id: str) -> list[TrashItemOut]:
        def run() -> list[TrashItemOut]:
            folder = self.trash_folder(agent_id)
            if not folder.exists():
                return []
            items = []
            for slot in folder.iterdir():
                if _TRASH_ID.match(slot.name) and (slot / "meta.json").is_file():
                    items.append(TrashItemOut.model_validate_json((slot / "meta.json").read_text()))
            return sorted(items, key=lambda i: i.deleted_at, reverse=True)

        return await asyncio.to_thread(run)

    async def restore(self, agent_id: str, trash_id: str) -> WorkspaceEntryOut:
        """Put a trashed entry back where it was (a conflict when that path is taken again)."""

        def run() -> WorkspaceEntryOut:
            if not _TRASH_ID.match(trash_id):
                raise NotFoundError("trash_item", trash_id)
            slot = self.trash_folder(agent_id) / trash_id
            if not (slot / "meta.json").is_file():
                raise NotFoundError("trash_item", trash_id)
            item = TrashItemOut.model_validate_json((slot / "meta.json").read_text())
            root = self._root(agent_id)
            target = confine(root, item.path)  # the meta file is ours, but check all the same
            if target.exists() or target.is_symlink():
                raise _exists(item.path)
            if item.kind != "link":
                check_room(root, self.quota_bytes, item.size)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.rename(slot / "item", target)
            shutil.rmtree(slot, ignore_errors=True)
            return entry_of(root, target)

        entry = await asyncio.to_thread(run)
        self._announce(agent_id, "restored", entry.path)
        return entry

    async def empty_trash(self, agent_id: str) -> None:
        await asyncio.to_thread(shutil.rmtree, self.trash_folder(agent_id), True)
        self._announce(agent_id, "trash_emptied", None)

    # --- uploads ---------------------------------------------------------------------------

    async def upload(
        self,
        agent_id: str,
        folder: str,
        content_type: str,
        body: AsyncIterator[bytes],
        length: int | None = None,
    ) -> list[WorkspaceEntryOut]:
        """Every file part of a multipart body into `folder` (`""`: the top). A part's filename
        may carry a relative path (a dropped folder: `photos/2024/a.jpg`), confined like any
        other path. All or nothing: a refused path, a name taken by a folder or the size limit
        reached keeps none of the upload. A file of the same name is replaced."""
        root = self._root(agent_id)
        base = path_parts(folder, allow_root=True)
        used = await asyncio.to_thread(used_bytes, root)
        room = self.quota_bytes - used
        if length is not None and length > room + MULTIPART_OVERHEAD:
            raise QuotaExceeded(self.quota_bytes, used, length)  # before reading any of it
        staging = self.trash_folder(agent_id) / ".incoming"
        uploads: list[_Upload] = []
        received = 0
        state: dict[str, Any] = {"headers": {}, "name": b"", "value": b"", "current": None}

        def on_header_field(data: bytes, start: int, end: int) -> None:
            state["name"] += data[start:end]

        def on_header_value(data: bytes, start: int, end: int) -> None:
            state["value"] += data[start:end]

        def on_header_end() -> None:
            state["headers"][state["name"].lower()] = state["value"]
            state["name"], state["value"] = b"", b""

        def on_headers_finished() -> None:
            disposition = state["headers"].get(b"content-disposition", b"")
            state["headers"] = {}
            name = _filename(disposition)
            if name is None:
                return  # a plain field
            if len(uploads) >= MAX_UPLOAD_FILES:
                raise InvalidError(f"at most {MAX_UPLOAD_FILES} files per upload",
                                   code="workspace.too_many_files", limit=MAX_UPLOAD_FILES)  # fmt: skip
            parts = path_parts(name)  # refuses `..`, absolute, reserved... before any byte
            path = confine(root, "/".join((*base, *parts)))
            staging.mkdir(parents=True, exist_ok=True)
            upload = _Upload(path, staging / f"{secrets.token_hex(8)}.part")
            upload.out = upload.staged.open("wb")
            uploads.append(upload)
            state["current"] = upload

        def on_part_data(data: bytes, start: int, end: int) -> None:
            nonlocal received
            upload: _Upload | None = state["current"]
            if upload is None or upload.out is None:
                return
            received += end - start
            if received > room:
                raise QuotaExceeded(self.quota_bytes, self.quota_bytes - room, received)
            upload.out.write(data[start:end])

        def on_part_end() -> None:
            upload: _Upload | None = state["current"]
            if upload is not None and upload.out is not None:
                upload.out.close()
                upload.out = None
            state["current"] = None

        media_type, options = parse_options_header(content_type)
        boundary = options.get(b"boundary")
        if media_type != b"multipart/form-data" or not boundary:
            raise InvalidError("send the files as multipart/form-data", code="upload.not_multipart")
        parser = MultipartParser(
            boundary,
            {"on_header_field": on_header_field, "on_header_value": on_header_value,
             "on_header_end": on_header_end, "on_headers_finished": on_headers_finished,
             "on_part_data": on_part_data, "on_part_end": on_part_end},
        )  # fmt: skip
        try:
            async for data in body:
                parser.write(data)
            parser.finalize()
            if state["current"] is not None:
                raise InvalidError(
                    "the upload ended in the middle of a file", code="upload.truncated"
                )
            if not uploads:
                raise InvalidError("no file in the upload (send each as a form field with a filename)",
                                   code="upload.no_file")  # fmt: skip
            entries = await asyncio.to_thread(self._place, root, uploads)
        except BaseException as error:
            await asyncio.to_thread(_discard, uploads)
            if isinstance(error, FormParserError):
                raise InvalidError(f"the multipart body is malformed ({error})",
                                   code="upload.malformed", reason=str(error)) from None  # fmt: skip
            raise
        for entry in entries:
            self._announce(agent_id, "uploaded", entry.path)
        return entries

    def _place(self, root: Path, uploads: list[_Upload]) -> list[WorkspaceEntryOut]:
        # Check every target before moving any, so a refusal keeps none of the upload.
        for upload in uploads:
            confine(root, relative(root, upload.path))  # again: the tree may have changed
            if upload.path.is_dir() or any(p.is_file() for p in upload.path.parents):
                raise _exists(relative(root, upload.path))
        entries = []
        for upload in uploads:
            upload.path.parent.mkdir(parents=True, exist_ok=True)
            os.replace(upload.staged, upload.path)
            entries.append(entry_of(root, upload.path))
        return entries


_FILENAME = re.compile(rb'(?:^|;)\s*filename="((?:[^"\\]|\\.)*)"', re.I)


def _filename(disposition: bytes) -> str | None:
    """A part's filename as sent. Not python-multipart's reading, which keeps only what follows
    the last backslash (for old IE): `C:\\x` or `..\\x` must be refused, not quietly cut."""
    match = _FILENAME.search(disposition)
    if match is None:
        return None
    raw = match.group(1).replace(b"\\\\", b"\\").replace(b'\\"', b'"')
    return raw.decode("utf-8", errors="replace")


def _discard(uploads: list[_Upload]) -> None:
    for upload in uploads:
        if upload.out is not None:
            upload.out.close()
        upload.staged.unlink(missing_ok=True)


def _size_of(path: Path, info: os.stat_result) -> int:
    if stat.S_ISDIR(info.st_mode):
        return used_bytes(path)
    return info.st_size if stat.S_ISREG(info.st_mode) else 0


def _clean(raw: str) -> str:
    return "/".join(path_parts(raw))


def _exists(raw: str) -> ConflictError:
    return ConflictError(f"{raw!r} already exists", code="workspace.exists", path=raw)


def open_nofollow(path: Path) -> int:
    """A file descriptor for reading `path`, refusing a link swapped in after the check."""
    try:
        return os.open(path, os.O_RDONLY | NOFOLLOW)
    except OSError:
        raise PathRefused(str(path.name), "symlink", "that file cannot be opened") from None
