"""Documents to text blocks: paragraphs with the heading path and page they sit under.

One parser per format, each returning `Block`s in reading order. Offsets are into the document's
parsed text: for .txt and .md that is the file's own decoded text; for HTML, PDF and DOCX it is
the extracted text with blocks joined by a blank line (see `ParsedDocument.text`).

Every failure a file can cause (corrupt, encrypted, empty, no text, past a limit) is a
`ParseError` with a sentence a user can act on and a stable code; callers fail that file and go
on. Parsing is CPU-bound, synchronous and meets untrusted input: the sidecar runs it only in a
parse worker process (`parse_worker.py`), which adds a time budget and a memory limit. The caps
below keep a hostile file's cost linear and small before the budget is needed: a DOCX's unpacked
size and part count are checked before it is opened, its XML may not declare entities (billion
laughs), and pages, body elements and HTML nesting are counted.

Parser choice (measured, see docs/knowledge.md): pypdf (BSD, pure Python) over PyMuPDF (AGPL) and
pdfminer.six; python-docx (MIT) over markitdown, which pulls in a model-based file-type detector
and more than we need.
"""

import codecs
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pypdf import PdfReader

SUPPORTED_KINDS = {
    ".txt": "txt",
    ".text": "txt",
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".docx": "docx",
}
HEADING_SEPARATOR = " › "
MAX_PDF_PAGES = 5_000
MAX_BLOCKS = 100_000  # paragraphs and tables of a DOCX, blocks of any document
MAX_HTML_DEPTH = 512
MAX_ZIP_MEMBERS = 1_000
MAX_INFLATED_MB = 256


class ParseError(Exception):
    """This file cannot be indexed; the message says why, for the user, and `code` is stable."""

    def __init__(self, message: str, code: str = "parse.invalid") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Block:
    text: str
    start: int  # offsets into ParsedDocument.text
    end: int
    headings: tuple[str, ...] = ()
    page: int | None = None  # 1-based, PDFs only

    @property
    def heading_path(self) -> str | None:
        return HEADING_SEPARATOR.join(h for h in self.headings if h) or None


@dataclass
class ParsedDocument:
    text: str
    blocks: list[Block]


def kind_of(filename: str) -> str | None:
    return SUPPORTED_KINDS.get(Path(filename).suffix.lower())


def parse_file(path: Path, kind: str) -> ParsedDocument:
    if path.stat().st_size == 0:
        raise ParseError("The file is empty.", "parse.empty")
    parser = _PARSERS[kind]
    try:
        document = parser(path)
    except (ParseError, MemoryError):
        raise
    except RecursionError as error:
        raise ParseError("The file is nested too deeply to read.", "parse.too_deep") from error
    except Exception as error:  # a library's own exception types vary; the reason still helps
        reason = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
        detail = f" ({type(error).__name__}: {reason})" if reason else ""
        raise ParseError(f"This does not look like a valid {kind.upper()} file{detail}.") from error
    if not any(block.text.strip() for block in document.blocks):
        raise ParseError(
            "No text found in the file."
            + (" It may be scanned images; OCR is not supported." if kind == "pdf" else ""),
            "parse.no_text",
        )
    return document


# --- plain text and Markdown: offsets into the file's own text ---------------------------------


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with a BOM, else Windows-1252 so no byte is lost."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


_BLANK_LINE = re.compile(r"\n[ \t]*\n")


def _paragraphs(text: str, offset: int = 0) -> Iterator[tuple[str, int, int]]:
    """Stripped paragraphs of `text` (split on blank lines) with their offsets."""
    position = 0
    for match in [*_BLANK_LINE.finditer(text), None]:
        end = match.start() if match else len(text)
        piece = text[position:end]
        stripped = piece.strip()
        if stripped:
            lead = len(piece) - len(piece.lstrip())
            start = offset + position + lead
            yield stripped, start, start + len(stripped)
        position = match.end() if match else len(text)


def parse_txt(path: Path) -> ParsedDocument:
    text = decode_text(path.read_bytes()).replace("\r\n", "\n")
    return ParsedDocument(text, [Block(t, s, e) for t, s, e in _paragraphs(text)])


# Every pattern here meets user text: none may backtrack over a run of characters (a lazy group
# followed by `[ \t#]*$` was quadratic on long runs of spaces); trailing `#`s are stripped after.
_ATX = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*)$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_THEMATIC_BREAK = re.compile(r"^ {0,3}([-*_])( *\1){2,} *$")


def parse_md(path: Path) -> ParsedDocument:
    """Headings (ATX `#` and setext underlines) set the path; fenced code stays one block."""
    text = decode_text(path.read_bytes()).replace("\r\n", "\n")
    blocks: list[Block] = []
    headings: list[str] = []
    lines = text.split("\n")
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)
    paragraph: list[int] = []  # line numbers of the paragraph being collected
    fence: str | None = None

    def flush() -> None:
        if paragraph:
            start, end = starts[paragraph[0]], starts[paragraph[-1]] + len(lines[paragraph[-1]])
            piece = text[start:end]
            lead = len(piece) - len(piece.lstrip())
            piece = piece.strip()
            if piece:  # one block, blank lines inside a code fence included
                blocks.append(
                    Block(piece, start + lead, start + lead + len(piece), tuple(headings))
                )
            paragraph.clear()

    def set_heading(level: int, title: str) -> None:
        del headings[level - 1 :]
        headings.extend([""] * (level - 1 - len(headings)))
        headings.append(title.strip())

    for number, line in enumerate(lines):
        if fence:
            paragraph.append(number)
            if line.lstrip().startswith(fence):
                fence = None
                flush()
            continue
        if match := _FENCE.match(line):
            flush()
            fence = match.group(1)
            paragraph.append(number)
        elif match := _ATX.match(line):
            flush()
            set_heading(len(match.group(1)), match.group(2).rstrip(" \t#"))
        elif (
            paragraph
            and len(paragraph) == 1
            and _SETEXT.match(line)
            and lines[paragraph[0]].strip()
        ):
            title = lines[paragraph.pop()]
            flush()
            set_heading(1 if line.strip().startswith("=") else 2, title)
        elif not line.strip() or _THEMATIC_BREAK.match(line):
            flush()
        else:
            paragraph.append(number)
    flush()
    return ParsedDocument(text, blocks)


# --- extracted text: HTML, PDF, DOCX ---------------------------------------------------------


class _Builder:
    """Collects (text, headings, page) blocks and lays them out as one text, blank-line joined."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.blocks: list[Block] = []
        self.length = 0
        self.headings: list[str] = []

    def heading(self, level: int, title: str) -> None:
        title = " ".join(title.split())
        if not title:
            return
        del self.headings[level - 1 :]
        self.headings.extend([""] * (level - 1 - len(self.headings)))
        self.headings.append(title)

    def add(self, text: str, page: int | None = None) -> None:
        text = text.strip()
        if not text:
            return
        if len(self.blocks) >= MAX_BLOCKS:
            raise too_many_blocks()
        if self.parts:
            self.parts.append("\n\n")
            self.length += 2
        self.blocks.append(
            Block(text, self.length, self.length + len(text), tuple(self.headings), page)
        )
        self.parts.append(text)
        self.length += len(text)

    def document(self) -> ParsedDocument:
        return ParsedDocument("".join(self.parts), self.blocks)


_DROP_TAGS = ("script", "style", "noscript", "template", "nav", "header", "footer", "aside",
              "form", "svg", "iframe")  # fmt: skip
_HEADING_TAGS = {f"h{n}": n for n in range(1, 7)}
_BLOCK_TAGS = {"p", "li", "pre", "blockquote", "tr", "dt", "dd", "figcaption", "caption",
               "address", "div", "section", "article", "main", "table", "ul", "ol", "dl", "body",
               "details", "summary", "br", "hr"}  # fmt: skip


def too_many_blocks() -> ParseError:
    return ParseError(
        f"The document has more than {MAX_BLOCKS:,} paragraphs; split it into smaller files.",
        "parse.too_many_blocks",
    )


def parse_html(path: Path) -> ParsedDocument:
    from bs4 import BeautifulSoup, NavigableString, PageElement, Tag

    soup = BeautifulSoup(path.read_bytes(), "lxml")  # lxml comes with python-docx; fast
    for tag in soup(_DROP_TAGS):
        tag.decompose()
    builder = _Builder()
    buffer: list[str] = []

    def flush() -> None:
        builder.add(" ".join("".join(buffer).split()))
        buffer.clear()

    def walk(root: Tag) -> None:
        """Depth first with an explicit stack (a deeply nested page must not exhaust Python's
        recursion), each level remembering whether it is a block to flush when it ends."""
        stack: list[tuple[Iterator[PageElement], bool]] = [(iter(root.children), False)]
        while stack:
            children, is_block = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                if is_block:
                    flush()
            elif isinstance(child, NavigableString):
                if type(child) is NavigableString:  # not comments, doctypes, CDATA
                    buffer.append(str(child))
            elif isinstance(child, Tag):
                name = child.name.lower()
                if name in _HEADING_TAGS:
                    flush()
                    builder.heading(_HEADING_TAGS[name], child.get_text(" "))
                elif name == "pre":
                    flush()
                    builder.add(child.get_text())
                elif name in ("td", "th"):
                    buffer.append(" " + child.get_text(" ") + " |")
                else:
                    if len(stack) >= MAX_HTML_DEPTH:
                        raise ParseError(
                            f"The page is nested more than {MAX_HTML_DEPTH} elements deep; "
                            "it does not look like a document.",
                            "parse.too_deep",
                        )
                    if name in _BLOCK_TAGS:
                        flush()
                    stack.append((iter(child.children), name in _BLOCK_TAGS))

    root = soup.body or soup
    if soup.title and soup.title.string and not soup.find("h1"):
        builder.heading(1, soup.title.string)
    walk(root)
    flush()
    return builder.document()


def parse_pdf(path: Path) -> ParsedDocument:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError

    reader = PdfReader(path)
    if reader.is_encrypted:
        # Many PDFs are encrypted only against editing, with an empty password for reading.
        try:
            opened = reader.decrypt("")
        except (FileNotDecryptedError, NotImplementedError, DependencyError) as error:
            raise ParseError(
                f"The PDF is encrypted and cannot be opened ({error}).", "parse.encrypted"
            ) from error
        if not opened:
            raise ParseError(
                "The PDF is password-protected; remove the password and add it again.",
                "parse.encrypted",
            )
    # The page tree's own count first (cheap); it can lie, so the loop below counts too.
    if _declared_pages(reader) > MAX_PDF_PAGES:
        raise too_many_pages()
    outline = _pdf_outline(reader)
    builder = _Builder()
    for number, page in enumerate(reader.pages, start=1):
        if number > MAX_PDF_PAGES:
            raise too_many_pages()
        for level, title in outline.get(number, ()):
            builder.heading(level, title)
        text = page.extract_text() or ""
        for piece, _start, _end in _paragraphs(text.replace("\r\n", "\n")):
            builder.add(piece, page=number)
    return builder.document()


def too_many_pages() -> ParseError:
    return ParseError(
        f"The PDF has more than {MAX_PDF_PAGES:,} pages; split it into smaller files.",
        "parse.too_many_pages",
    )


def _declared_pages(reader: "PdfReader") -> int:
    try:
        pages: Any = reader.trailer["/Root"]
        return int(pages["/Pages"]["/Count"])
    except Exception:  # noqa: BLE001 - a broken tree: the page loop counts instead
        return 0


def _pdf_outline(reader: "PdfReader") -> dict[int, list[tuple[int, str]]]:
    """Bookmarks by the page they start on, as (level, title): a PDF's heading structure."""
    by_page: dict[int, list[tuple[int, str]]] = {}

    def visit(items: list[Any], level: int) -> None:
        for item in items:
            if isinstance(item, list):
                visit(item, level + 1)
                continue
            try:
                number = reader.get_destination_page_number(item)
            except Exception:  # noqa: BLE001 - a broken bookmark only loses its heading
                continue
            if number is None:
                continue
            page = number + 1
            by_page.setdefault(page, []).append((level, str(item.title)))

    try:
        visit(reader.outline, 1)
    except Exception:  # noqa: BLE001 - same: the text still comes through without headings
        return {}
    return by_page


_DOCX_HEADING = re.compile(r"^heading (\d)$", re.IGNORECASE)


_DTD_MARKERS = (b"<!DOCTYPE", b"<!ENTITY")


def check_zip(path: Path) -> None:
    """A DOCX is a ZIP of XML parts: refuse one that unpacks to more than MAX_INFLATED_MB or has
    too many parts (a zip bomb), or whose XML declares a DTD (Word never writes one; entity
    definitions are how a "billion laughs" file expands). Reads are bounded too: zipfile stops
    every member at its declared size, and the declared sizes are what is summed here."""
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
        if len(members) > MAX_ZIP_MEMBERS:
            raise ParseError(
                f"The document holds more than {MAX_ZIP_MEMBERS:,} parts; it may be a zip bomb.",
                "parse.too_many_parts",
            )
        if sum(m.file_size for m in members) > MAX_INFLATED_MB * 2**20:
            raise ParseError(
                f"The document expands beyond {MAX_INFLATED_MB} MB when unpacked; "
                "it may be a zip bomb.",
                "parse.too_large_unpacked",
            )
        for member in members:
            if member.filename.endswith((".xml", ".rels")) and _declares_dtd(archive, member):
                raise ParseError(
                    "The document's XML declares entities (a DTD), which Word never writes; "
                    "it is refused as unsafe.",
                    "parse.xml_entities",
                )


def _declares_dtd(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> bool:
    tail = b""
    with archive.open(member) as part:
        while data := part.read(1 << 20):
            window = tail + data
            if any(marker in window for marker in _DTD_MARKERS):
                return True
            tail = window[-16:]
    return False


def parse_docx(path: Path) -> ParsedDocument:
    """Paragraphs and tables in body order; headings from the paragraph styles."""
    import docx
    from docx.enum.style import WD_STYLE_TYPE
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    if not zipfile.is_zipfile(path):
        # Word saves password-protected documents as OLE containers, not ZIPs.
        raise ParseError(
            "This is not a Word 2007+ (.docx) file; it may be password-protected or an old .doc.",
            "parse.not_docx",
        )
    check_zip(path)
    document = docx.Document(str(path))
    if len(document.element.body) > MAX_BLOCKS:
        raise too_many_blocks()
    # `Paragraph.style` looks the default style up again for every paragraph (a 63 KB file of
    # 300k empty paragraphs took minutes): resolve style ids to names once.
    names = {style.style_id: style.name for style in document.styles}
    default = document.styles.default(WD_STYLE_TYPE.PARAGRAPH)
    default_name = default.name if default is not None else ""
    builder = _Builder()
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            style_id = item._p.style  # the pStyle id, None for the default style
            style = names.get(style_id, default_name) if style_id else default_name
            match = _DOCX_HEADING.match(style or "")
            if match or style == "Title":
                builder.heading(int(match.group(1)) if match else 1, item.text)
            else:
                builder.add(item.text)
        elif isinstance(item, Table):
            for row in item.rows:
                cells = list(dict.fromkeys(c.text.strip() for c in row.cells))
                builder.add(" | ".join(c for c in cells if c))
    return builder.document()


_PARSERS: dict[str, Callable[[Path], ParsedDocument]] = {
    "txt": parse_txt,
    "md": parse_md,
    "html": parse_html,
    "pdf": parse_pdf,
    "docx": parse_docx,
}
