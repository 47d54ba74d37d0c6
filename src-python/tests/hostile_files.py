"""Hostile documents for the parse worker's tests and bench/hostile: each is small on disk and
costly to read without the parsers' caps and the worker's budget (a zip bomb, a billion laughs,
300k empty paragraphs, 10,000 pages, deep nesting, a long run of spaces)."""

import io
import zipfile
from pathlib import Path

LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i > 1 else "&lol;" * 10}">' for i in range(1, 10))
    + "]>\n"
)  # fmt: skip


def _base_docx() -> bytes:
    import docx

    buffer = io.BytesIO()
    document = docx.Document()
    document.add_paragraph("Placeholder")
    document.save(buffer)
    return buffer.getvalue()


def _rewrite_docx(path: Path, body: str, *, prolog: str = "", extra: bool = False) -> Path:
    """A real python-docx file whose word/document.xml body is replaced by `body`."""
    source = zipfile.ZipFile(io.BytesIO(_base_docx()))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "word/document.xml":
                xml = data.decode()
                start = xml.index("<w:document")
                head = xml[start : xml.index("<w:body>") + len("<w:body>")]
                data = (prolog + head + body + "</w:body></w:document>").encode()
            archive.writestr(info.filename, data)
    return path


def empty_paragraphs_docx(path: Path, count: int = 300_000) -> Path:
    return _rewrite_docx(path, "<w:p/>" * count)


def billion_laughs_docx(path: Path) -> Path:
    return _rewrite_docx(path, "<w:p><w:r><w:t>&lol9;</w:t></w:r></w:p>", prolog=LAUGHS)


def zip_bomb_docx(path: Path, inflated_mb: int = 1024) -> Path:
    """A real DOCX whose document links an image part of `inflated_mb` MB of zeros (about 1 KB
    per MB on disk): python-docx reads every linked part into memory."""
    source = zipfile.ZipFile(io.BytesIO(_base_docx()))
    zeros = bytes(1 << 20)
    link = (
        '<Relationship Id="rIdBomb" Target="media/image1.png" Type="http://schemas.openxmlformats'
        '.org/officeDocument/2006/relationships/image"/></Relationships>'
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "word/_rels/document.xml.rels":
                data = data.replace(b"</Relationships>", link.encode())
            archive.writestr(info.filename, data)
        with archive.open("word/media/image1.png", "w", force_zip64=True) as part:
            for _ in range(inflated_mb):
                part.write(zeros)
    return path


def many_pages_pdf(path: Path, pages: int = 10_000) -> Path:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=200, height=200)
    with path.open("wb") as out:
        writer.write(out)
    return path


def nested_html(path: Path, depth: int = 100_000) -> Path:
    path.write_text(
        "<html><body>" + "<div><b>" * depth + "deep" + "</b></div>" * depth + "</body></html>"
    )
    return path


def spaces_markdown(path: Path, spaces: int = 200_000) -> Path:
    """A heading and a paragraph with a long run of spaces: quadratic for a backtracking pattern,
    a valid document otherwise."""
    path.write_text(
        "# Title" + " " * spaces + "x\n\nSome words" + " " * spaces + "after the spaces.\n"
    )
    return path


def single_line_text(path: Path, megabytes: int = 5) -> Path:
    """One line of words, no line break: a valid but heavy text."""
    words = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor "
    path.write_text(words * (megabytes * 2**20 // len(words)))
    return path
