"""Parsers on real files (written by the libraries that make them) and the chunker on real text."""

from pathlib import Path

import pytest

from sage_sidecar.knowledge.chunking import approx_tokens, chunk_document
from sage_sidecar.knowledge.intake import safe_filename
from sage_sidecar.knowledge.parsers import ParseError, parse_file

from knowledge_client import PDF_PAGES, write_docx, write_html, write_pdf


def test_pdf_pages_and_bookmarks_become_page_numbers_and_headings(tmp_path: Path):
    document = parse_file(write_pdf(tmp_path / "guide.pdf"), "pdf")
    pages = {block.page for block in document.blocks}
    assert pages == {1, 2, 3}
    for number, (title, body) in enumerate(PDF_PAGES, start=1):
        blocks = [b for b in document.blocks if b.page == number]
        assert all(b.heading_path == title for b in blocks)
        text = " ".join(" ".join(b.text.split()) for b in blocks)
        assert body.split(".")[0] in text
    for block in document.blocks:  # offsets point into the parsed text
        assert document.text[block.start : block.end] == block.text


def test_docx_headings_paragraphs_and_tables_in_order(tmp_path: Path):
    document = parse_file(write_docx(tmp_path / "birds.docx"), "docx")
    seen = [(b.heading_path, b.text) for b in document.blocks]
    assert seen == [
        ("Field guide", "An introduction to the birds of the valley."),
        ("Field guide › Herons", "Grey herons stand still in shallow water for a long time."),
        ("Field guide › Herons", "Bird | Length"),
        ("Field guide › Herons", "Grey heron | 95 cm"),
        ("Field guide › Kingfishers", "Kingfishers dive for small fish from a low perch."),
    ]


def test_html_keeps_content_and_drops_scripts_styles_and_navigation(tmp_path: Path):
    document = parse_file(write_html(tmp_path / "tea.html"), "html")
    assert [(b.heading_path, b.text) for b in document.blocks] == [
        ("Tea notes", "Green tea is brewed at about 80 °C for two minutes."),
        ("Tea notes › Black tea", "Black tea takes boiling water"),
        ("Tea notes › Black tea", "Assam is malty."),
        ("Tea notes › Black tea", "Darjeeling is floral."),
    ]
    assert "secret" not in document.text and "Home" not in document.text
    assert "tea club" not in document.text


def test_markdown_headings_code_fences_and_offsets_into_the_file(tmp_path: Path):
    source = (
        "# Setup\n\nInstall it.\n\n## On Linux\n\nUse the .deb package.\n\n"
        "```sh\n# not a heading\n\nsudo apt install ./sage.deb\n```\n\n"
        "Usage\n=====\n\nOpen the app.\n\n---\n\nThe end.\n"
    )
    path = tmp_path / "readme.md"
    path.write_text(source)
    document = parse_file(path, "md")
    assert document.text == source  # .md offsets are offsets into the file itself
    assert [(b.heading_path, b.text) for b in document.blocks] == [
        ("Setup", "Install it."),
        ("Setup › On Linux", "Use the .deb package."),
        ("Setup › On Linux", "```sh\n# not a heading\n\nsudo apt install ./sage.deb\n```"),
        ("Usage", "Open the app."),
        ("Usage", "The end."),
    ]
    for block in document.blocks:
        assert source[block.start : block.end] == block.text


def test_text_in_a_legacy_encoding_is_read(tmp_path: Path):
    path = tmp_path / "notes.txt"
    path.write_bytes("Café prices rose.\r\n\r\nNaïve guess.".encode("cp1252"))
    document = parse_file(path, "txt")
    assert [b.text for b in document.blocks] == ["Café prices rose.", "Naïve guess."]


@pytest.mark.parametrize(
    ("name", "kind", "content", "reason"),
    [
        ("empty.pdf", "pdf", b"", "The file is empty."),
        ("broken.pdf", "pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog", "valid PDF"),
        ("broken.docx", "docx", b"PK\x03\x04 not really a zip", "Word 2007+"),
        ("old.docx", "docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512, "password"),
        ("blank.txt", "txt", b"   \n\n  \n", "No text found"),
    ],
)
def test_bad_files_fail_with_a_readable_reason(tmp_path, name, kind, content, reason):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ParseError, match=reason):
        parse_file(path, kind)


def test_password_protected_pdf_is_refused_with_the_reason(tmp_path: Path):
    path = write_pdf(tmp_path / "secret.pdf", password="hunter2")
    with pytest.raises(ParseError, match="password-protected"):
        parse_file(path, "pdf")


def test_truncated_pdf_fails_cleanly(tmp_path: Path):
    whole = write_pdf(tmp_path / "whole.pdf").read_bytes()
    path = tmp_path / "cut.pdf"
    path.write_bytes(whole[: len(whole) // 3])
    try:
        document = parse_file(path, "pdf")
    except ParseError as error:
        assert "PDF" in str(error) or "No text" in str(error)
    else:  # pypdf may recover the pages it can read; then they must be real text
        assert document.blocks and all(b.text.strip() for b in document.blocks)


def test_chunks_follow_structure_overlap_and_keep_their_source(tmp_path: Path):
    sentence = "The heron waits in the reeds until a fish swims past its long legs. "
    source = (
        "# Herons\n\n"
        + (sentence * 6 + "\n\n") * 6
        + "## Nesting\n\nHerons nest in colonies called heronries.\n"
    )
    path = tmp_path / "herons.md"
    path.write_text(source)
    document = parse_file(path, "md")
    chunks = chunk_document(document, target=120, overlap=30)
    herons = [c for c in chunks if c.heading == "Herons"]
    nesting = [c for c in chunks if c.heading == "Herons › Nesting"]
    assert len(herons) >= 4 and len(nesting) == 1  # a heading always starts a new chunk
    assert nesting[0].text == "Herons nest in colonies called heronries."
    for chunk in chunks:
        assert source[chunk.char_start : chunk.char_end] == chunk.text
        assert chunk.token_count == approx_tokens(chunk.text) <= 120
    for first, second in zip(herons, herons[1:], strict=False):
        assert second.char_start < first.char_end  # consecutive chunks overlap
        assert first.char_end - second.char_start <= len(sentence) * 2
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    assert chunks[0].embedding_text().startswith("Herons\n")


def test_a_paragraph_without_sentences_is_cut_into_windows(tmp_path: Path):
    path = tmp_path / "words.txt"
    path.write_text(" ".join(f"word{i}" for i in range(1000)))
    chunks = chunk_document(parse_file(path, "txt"), target=100, overlap=0)
    assert len(chunks) == 10 and all(c.token_count == 100 for c in chunks)
    assert " ".join(c.text for c in chunks) == path.read_text()


def test_chinese_prose_is_cut_at_its_sentences_into_model_sized_chunks(tmp_path: Path):
    # No spaces in Chinese: a paragraph must not count as one "word" (one chunk far beyond the
    # embedder's 256-token window), and 。 ends a sentence with nothing after it.
    sentence = "苍鹭静静地站在芦苇丛中，等待小鱼从它细长的腿边游过。"
    path = tmp_path / "herons.md"
    path.write_text("# 苍鹭\n\n" + sentence * 40 + "\n", encoding="utf-8")
    chunks = chunk_document(parse_file(path, "md"), target=120, overlap=30)
    assert approx_tokens(sentence) == len(sentence)  # one token per character and mark
    assert len(chunks) >= 8
    for chunk in chunks:
        assert chunk.token_count <= 120 and chunk.text.endswith("。")


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\win.ini", "win.ini"),
        ("/abs/path/report.pdf", "report.pdf"),
        ("  .hidden notes.md ", "hidden notes.md"),
        ("tab\tand\nnewline.txt", "tab and newline.txt"),
        ("x" * 300 + ".pdf", "x" * 196 + ".pdf"),
    ],
)
def test_file_names_lose_any_path(raw, safe):
    assert safe_filename(raw) == safe


@pytest.mark.parametrize("raw", ["", "..", "/", "a/..", "  "])
def test_empty_file_names_are_refused(raw):
    with pytest.raises(Exception, match="empty"):
        safe_filename(raw)
