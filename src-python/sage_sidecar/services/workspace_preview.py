"""How a workspace file is previewed: its content type, the kind of preview, and the safe content
the UI renders (services/workspace.py finds the file).

Text, Markdown and code come as text, cut to `TEXT_LIMIT` characters (the UI escapes, highlights
or sanitises it); CSV as a table parsed here; DOCX as the text the knowledge parse workers extract
(`ParserPool.text`: another process, with the knowledge files' time and memory budget). Images,
PDF and HTML are fetched from `/raw`, served with `RAW_HEADERS` (no script, no request, no
sniffing). Anything else is binary: metadata only.
"""

import asyncio
import csv
import io
import mimetypes
import os
from datetime import UTC, datetime
from pathlib import Path

from sage_sidecar.core.confinement import relative
from sage_sidecar.knowledge.parse_worker import ParserPool
from sage_sidecar.knowledge.parsers import ParseError, decode_text
from sage_sidecar.schemas.workspace import CsvTable, PreviewKind, PreviewOut
from sage_sidecar.services.workspace import open_nofollow

TEXT_LIMIT = 256 * 1024  # characters of text sent for a preview
CSV_BYTES = 1024 * 1024
CSV_ROWS, CSV_COLUMNS, CSV_CELL = 500, 50, 1_000
SNIFF_BYTES = 8 * 1024

# Served by /raw and /download: a file from the workspace is never a page of the app. An HTML file
# opened at its URL runs no script, loads nothing and cannot be framed by anything but the app.
RAW_CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; "
    "form-action 'none'; base-uri 'none'; sandbox"
)
RAW_HEADERS = {
    "Content-Security-Policy": RAW_CSP,
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Resource-Policy": "same-site",
    "Cache-Control": "no-store",
}

MARKDOWN = {".md", ".markdown", ".mdown"}
PLAIN = {".txt", ".log", ".text", ".rst", ".env", ".cfg", ".conf"}
CODE = {
    ".py": "python", ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript",
    ".ts": "typescript", ".tsx": "typescript", ".jsx": "javascript", ".json": "json",
    ".yaml": "yaml", ".yml": "yaml", ".toml": "ini", ".ini": "ini", ".sh": "bash",
    ".bash": "bash", ".rs": "rust", ".go": "go", ".java": "java", ".kt": "kotlin",
    ".c": "c", ".h": "c", ".cpp": "cpp", ".hpp": "cpp", ".cc": "cpp", ".cs": "csharp",
    ".css": "css", ".scss": "scss", ".sql": "sql", ".xml": "xml", ".vue": "xml", ".rb": "ruby",
    ".php": "php", ".swift": "swift", ".r": "r", ".lua": "lua", ".ps1": "powershell",
    ".dockerfile": "dockerfile", ".diff": "diff", ".patch": "diff",
}  # fmt: skip
IMAGES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
          ".webp": "image/webp", ".bmp": "image/bmp", ".ico": "image/x-icon",
          ".svg": "image/svg+xml"}  # fmt: skip
CSV_KINDS = {".csv": ",", ".tsv": "\t"}
DOCX = ".docx"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def content_type(name: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix in IMAGES:
        return IMAGES[suffix]
    if suffix in MARKDOWN:
        return "text/markdown; charset=utf-8"
    if suffix in (".html", ".htm"):
        return "text/html; charset=utf-8"
    if suffix in PLAIN or suffix in CODE or suffix in CSV_KINDS:
        return "text/plain; charset=utf-8"
    if suffix == DOCX:
        return DOCX_TYPE
    guessed, _encoding = mimetypes.guess_type(name)
    return guessed or "application/octet-stream"


def preview_kind(name: str, head: bytes) -> PreviewKind:
    suffix = Path(name).suffix.lower()
    if suffix in IMAGES:
        return "image"
    if suffix == ".pdf":
        return "pdf"
    if suffix in (".html", ".htm"):
        return "html"
    if suffix == DOCX:
        return "docx"
    if suffix in CSV_KINDS:
        return "csv"
    if suffix in MARKDOWN:
        return "markdown"
    if suffix in CODE:
        return "code"
    if suffix in PLAIN or _looks_like_text(head):
        return "text"
    return "binary"


def _looks_like_text(head: bytes) -> bool:
    if not head:
        return True
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        return error.start >= len(head) - 3  # a character cut by the sniff's end
    return True


def _read_head(path: Path, limit: int) -> bytes:
    with os.fdopen(open_nofollow(path), "rb") as file:
        return file.read(limit)


def _table(data: bytes, delimiter: str, complete: bool) -> CsvTable:
    text = decode_text(data)
    rows: list[list[str]] = []
    truncated = not complete
    try:
        for row in csv.reader(io.StringIO(text), delimiter=delimiter):
            if len(rows) >= CSV_ROWS:
                truncated = True
                break
            rows.append([cell[:CSV_CELL] for cell in row[:CSV_COLUMNS]])
    except csv.Error:
        truncated = True  # a broken quote: show what came before it
    return CsvTable(rows=rows, truncated=truncated)


def read_preview(root: Path, path: Path) -> PreviewOut:
    """Everything but DOCX (see `preview`). Blocking: call it in a thread."""
    info = path.stat()
    kind = preview_kind(path.name, _read_head(path, SNIFF_BYTES))
    suffix = path.suffix.lower()
    text, table, truncated = None, None, False
    if kind in ("text", "markdown", "code"):
        cut = _read_head(path, TEXT_LIMIT * 4)
        decoded = decode_text(cut)
        text = decoded[:TEXT_LIMIT]
        truncated = info.st_size > len(cut) or len(decoded) > TEXT_LIMIT
    elif kind == "csv":
        table = _table(
            _read_head(path, CSV_BYTES), CSV_KINDS[suffix], complete=info.st_size <= CSV_BYTES
        )
    return PreviewOut(path=relative(root, path), name=path.name, size=info.st_size,
                      modified=datetime.fromtimestamp(info.st_mtime, UTC),
                      content_type=content_type(path.name), preview=kind,
                      language=CODE.get(suffix) if kind == "code" else None, text=text,
                      table=table, truncated=truncated, error=None)  # fmt: skip


async def preview(root: Path, path: Path, parser: ParserPool) -> PreviewOut:
    """The preview of a file `confine` found; DOCX text from a parse worker."""
    result = await asyncio.to_thread(read_preview, root, path)
    if result.preview != "docx":
        return result
    try:
        text, chars = await parser.text(path, "docx", TEXT_LIMIT)
    except ParseError as error:
        return result.model_copy(update={"error": str(error)})
    return result.model_copy(update={"text": text, "truncated": chars > len(text)})
