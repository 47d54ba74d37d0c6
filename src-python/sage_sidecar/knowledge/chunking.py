"""Blocks to chunks: passages of about `target` tokens that follow the document's structure.

- A chunk never crosses a heading or a page: its source is one heading path and one page.
- Within a section, whole paragraphs are packed while they fit; a paragraph too long for one
  chunk is split into sentences, and a sentence too long into word windows.
- Consecutive chunks of a section overlap by up to `overlap` tokens of whole sentences, so a fact
  on a boundary is whole in at least one chunk.

Tokens are counted as words and punctuation marks (`approx_tokens`): within ~15% of MiniLM's
WordPiece count on English prose, and far cheaper than running the tokenizer. The default 200
keeps chunks inside the model's 256-token window.

A chunk is also bounded in characters (`CHARS_PER_TOKEN` × target): a "word" of a megabyte (a
base64 blob) or a megabyte of spaces between two words would otherwise make one huge chunk.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass

from sage_sidecar.knowledge.parsers import Block, ParsedDocument

# Chinese and Japanese are written without spaces: each character counts as a token (MiniLM's
# WordPiece splits them one by one too), else a paragraph would be one "word" and one chunk.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+|[^\w\s]")
# A sentence ends at . ! ? followed by space, or at CJK 。！？ (no space follows them). Prose is
# often hard-wrapped, so a line break is only the next place to cut when a "sentence" is still
# too long (code, lists).
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|(?<=[。！？])\s*")
# Only at a newline: `\s*\n\s*` tried every space of a long run as a start (quadratic); the
# whitespace before the newline is trimmed from the piece instead.
_LINE_END = re.compile(r"\n\s*")
CHARS_PER_TOKEN = 30  # far above prose (~5); only pathological text reaches it


def approx_tokens(text: str) -> int:
    return len(_TOKEN.findall(text))


@dataclass(frozen=True)
class Chunk:
    ordinal: int
    text: str
    heading: str | None
    page: int | None
    char_start: int
    char_end: int
    token_count: int

    def embedding_text(self) -> str:
        """What the embedder sees: the heading path gives a passage its topic."""
        return f"{self.heading}\n{self.text}" if self.heading else self.text


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    tokens: int


def _pieces(text: str, start: int, end: int, separator: re.Pattern[str]) -> Iterator[_Span]:
    position = start
    for match in [*separator.finditer(text, start, end), None]:
        stop = match.start() if match else end
        piece = text[position:stop]
        if stripped := piece.strip():
            first = position + len(piece) - len(piece.lstrip())
            yield _Span(first, first + len(stripped), approx_tokens(stripped))
        position = match.end() if match else end


def _word_windows(text: str, span: _Span, size: int) -> Iterator[_Span]:
    """Windows of `size` tokens and at most size × CHARS_PER_TOKEN characters; a longer token is
    cut into pieces of that length."""
    limit = size * CHARS_PER_TOKEN
    start = end = -1
    count = 0
    for token in _TOKEN.finditer(text, span.start, span.end):
        if count and (count == size or token.end() - start > limit):
            yield _Span(start, end, count)
            count = 0
        if token.end() - token.start() > limit:
            for cut in range(token.start(), token.end(), limit):
                yield _Span(cut, min(cut + limit, token.end()), 1)
            continue
        if not count:
            start = token.start()
        end, count = token.end(), count + 1
    if count:
        yield _Span(start, end, count)


def _sentences(text: str, start: int, end: int) -> Iterator[_Span]:
    return _pieces(text, start, end, _SENTENCE_END)


def _units(text: str, block: Block, target: int) -> Iterator[_Span]:
    """The block as one unit if it fits, else its sentences; a sentence still too long is cut at
    line breaks, then into word windows."""
    limit = target * CHARS_PER_TOKEN

    def fits(span: _Span) -> bool:
        return span.tokens <= target and span.end - span.start <= limit

    whole = _Span(block.start, block.end, approx_tokens(block.text))
    if fits(whole):
        yield whole
        return
    for sentence in _sentences(text, block.start, block.end):
        if fits(sentence):
            yield sentence
            continue
        for line in _pieces(text, sentence.start, sentence.end, _LINE_END):
            if fits(line):
                yield line
            else:
                yield from _word_windows(text, line, target)


def _overlap_tail(text: str, units: list[_Span], overlap: int) -> list[_Span]:
    """The trailing whole sentences of a chunk that fit in `overlap` tokens."""
    if overlap <= 0 or not units:
        return []
    tail: list[_Span] = []
    budget = overlap
    for unit in reversed(units):
        for sentence in reversed(list(_sentences(text, unit.start, unit.end))):
            if sentence.tokens > budget:
                return tail
            tail.insert(0, sentence)
            budget -= sentence.tokens
    return tail


def chunk_document(document: ParsedDocument, target: int = 200, overlap: int = 40) -> list[Chunk]:
    if target < 16:
        raise ValueError("chunks must be at least 16 tokens")
    overlap = max(0, min(overlap, target // 2))
    text = document.text
    chunks: list[Chunk] = []

    def emit(units: list[_Span], block: Block) -> None:
        start, end = units[0].start, units[-1].end
        chunks.append(
            Chunk(len(chunks), text[start:end], block.heading_path, block.page, start, end,
                  approx_tokens(text[start:end]))
        )  # fmt: skip

    limit = target * CHARS_PER_TOKEN
    for section in _sections(document.blocks):
        current: list[_Span] = []
        size = carried = 0  # carried: units of `current` repeated from the previous chunk
        for block in section:
            for unit in _units(text, block, target):
                if current and unit.end - current[0].start > limit:  # a long gap: start afresh
                    if len(current) > carried:
                        emit(current, section[0])
                    current, size, carried = [], 0, 0
                if current and size + unit.tokens > target:
                    emit(current, section[0])
                    current = _overlap_tail(text, current, overlap)
                    size, carried = sum(u.tokens for u in current), len(current)
                    if size + unit.tokens > target:  # no room for the overlap and this unit
                        current, size, carried = [], 0, 0
                current.append(unit)
                size += unit.tokens
        if current:
            emit(current, section[0])
    return chunks


def _sections(blocks: list[Block]) -> Iterator[list[Block]]:
    """Runs of consecutive blocks under the same heading path and page."""
    section: list[Block] = []
    for block in blocks:
        if section and (block.headings, block.page) != (section[0].headings, section[0].page):
            yield section
            section = []
        section.append(block)
    if section:
        yield section
