"""Token counts without the model's tokenizer: a calibrated estimate that errs high.

Sage talks to many model families (GPT, Claude, Llama, Qwen…) whose tokenizers differ and are not
all available offline (tiktoken downloads its encodings on first use), so it estimates. The text is
split the way BPE pre-tokenizers split it (letter runs, digit groups, punctuation, whitespace) and
each piece costs what it usually costs: a CJK character one token, an English word up to five and a
half letters one token, punctuation one token per two characters. Measured against OpenAI's
cl100k_base and o200k_base (tests/test_context_tokens.py, on this repository's README, docs, Python
and Vue source, and en/zh locale files), the estimate is 5–40 % above the real count and never
below it on that text; random base64 or hex-like strings are the known exception (about 40 %
under), which the request's safety margin (keeper.py) absorbs in a normal conversation."""

import functools
import json
import math
import re
from collections.abc import Iterator

from sage_sidecar.providers.base import ChatMessage, ToolSpec

_WIDE = "\u1100-\u11ff\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef"  # CJK, kana, Hangul
_PIECE = re.compile(rf"[{_WIDE}]|[^\W\d_]+|\d{{1,3}}|\s+|[^\w\s]+")
_CASE_CHANGE = re.compile(r"[a-z][A-Z]|[A-Z][a-z]")

# What a message costs beyond its text (role, separators) in the chat formats.
MESSAGE_OVERHEAD = 4
# An image, whatever its size: OpenAI's high-detail tile count for a downscaled 1568 px image is
# about 1,100; Anthropic's (width × height / 750) at that size about 1,600.
IMAGE_TOKENS = 1_600


def _piece_cost(piece: str) -> float:
    first = piece[0]
    if piece.isspace():
        return 0 if piece == " " else 1  # a single space joins the next word's token
    if re.match(rf"[{_WIDE}]", first):
        return 1
    if first.isalpha():
        if piece.isascii():
            return max(math.ceil(len(piece) / 5.5), len(_CASE_CHANGE.findall(piece[1:])) * 0.75)
        return len(piece) / 2  # Cyrillic, Greek, accented Latin…
    return math.ceil(len(piece) / 2)  # digits (up to three a token), punctuation


def _costs(text: str) -> Iterator[tuple[int, float]]:
    """(start, cost) of each piece. A single space is free before an ASCII word or number (the
    tokenizers fold it into the word's token), not before CJK text or punctuation."""
    for match in _PIECE.finditer(text):
        piece, end = match.group(), match.end()
        if piece == " " and not (end < len(text) and text[end].isascii() and text[end].isalnum()):
            yield match.start(), 0.5
        else:
            yield match.start(), _piece_cost(piece)


@functools.lru_cache(maxsize=4096)  # a history is counted again at every model call
def _counted(text: str) -> int:
    return math.ceil(sum(cost for _, cost in _costs(text)))


def text_tokens(text: str | None) -> int:
    return _counted(text) if text else 0


def message_tokens(message: ChatMessage) -> int:
    count = MESSAGE_OVERHEAD + text_tokens(message.content)
    count += IMAGE_TOKENS * len(message.images)
    for call in message.tool_calls:
        count += MESSAGE_OVERHEAD + text_tokens(call.name) + text_tokens(call.arguments)
    return count


def messages_tokens(messages: list[ChatMessage]) -> int:
    return sum(message_tokens(m) for m in messages)


def tools_tokens(tools: list[ToolSpec]) -> int:
    """Tool schemas travel as JSON in every request that offers them."""
    return sum(
        MESSAGE_OVERHEAD + text_tokens(t.name) + text_tokens(t.description)
        + text_tokens(json.dumps(t.parameters))
        for t in tools
    )  # fmt: skip


def cut_to_tokens(text: str, tokens: int) -> str:
    """The longest start of `text` that the estimate puts within `tokens`."""
    spent = 0.0
    cut = text
    for start, cost in _costs(text):
        spent += cost
        if math.ceil(spent) > tokens:
            cut = text[:start]
            break
    while cut and text_tokens(cut) > tokens:  # its last piece costs more at the very end
        cut = cut[:-1]
    return cut
