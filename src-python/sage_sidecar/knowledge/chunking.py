"""Blocks to chunks: passages of about `target` tokens that follow the document's structure.

- A chunk never crosses a heading or a page: its source is one heading path and one page.
- Within a section, whole paragraphs are packed while they fit; a paragraph too long for one
  chunk is split into sentences, and a sentence too long into word windows.
- Consecutive chunks of a section overlap by up to `overlap` tokens of whole sentences, so a fact
  on a boundary is whole in at least one chunk.

Tokens are counted as words and punctuation marks (`approx_tokens`): within ~15% of MiniLM's
WordPiece count on English prose, and far cheaper than running the tokenizer. The default 200
keeps chunks inside the model's 256-token window.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass

from sage_sidecar.knowledge.parsers import Block, ParsedDocument

_TOKEN = re.compile(r"\w+|[^\w\s]")
# A sentence ends at . ! ? (or CJK 。！？) followed by space. Prose is often hard-wrapped, so a
# line break is only the next place to cut when a "sentence" is still too long (code, lists).
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+")
_LINE_END = re.compile(r"\s*\n\s*")


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
        if text[position:stop].strip():
            yield _Span(position, stop, approx_tokens(text[position:stop]))
        position = match.end() if match else end


def _word_windows(text: str, span: _Span, size: int) -> Iterator[_Span]:
    tokens = list(_TOKEN.finditer(text, span.start, span.end))
    for index in range(0, len(tokens), size):
        window = tokens[index : index + size]
        yield _Span(window[0].start(), window[-1].end(), len(window))


def _sentences(text: str, start: int, end: int) -> Iterator[_Span]:
    return _pieces(text, start, end, _SENTENCE_END)


def _units(text: str, block: Block, target: int) -> Iterator[_Span]:
    """The block as one unit if it fits, else its sentences; a sentence still too long is cut at
    line breaks, then into word windows."""
    tokens = approx_tokens(block.text)
    if tokens <= target:
        yield _Span(block.start, block.end, tokens)
        return
    for sentence in _sentences(text, block.start, block.end):
        if sentence.tokens <= target:
            yield sentence
            continue
        for line in _pieces(text, sentence.start, sentence.end, _LINE_END):
            if line.tokens <= target:
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

    for section in _sections(document.blocks):
        current: list[_Span] = []
        size = 0
        for block in section:
            for unit in _units(text, block, target):
                if current and size + unit.tokens > target:
                    emit(current, section[0])
                    current = _overlap_tail(text, current, overlap)
                    size = sum(u.tokens for u in current)
                    if size + unit.tokens > target:  # no room for the overlap and this unit
                        current, size = [], 0
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
