"""`<think>…</think>` in a local model's text (DeepSeek-R1 distills, Qwen3, QwQ served by Ollama or
LM Studio): split out of the answer as reasoning, even when a tag is cut across stream chunks.

Only a block at the very start of the answer (after blank space) is reasoning: a `<think>` in the
middle of an answer is the model writing about the tag, and stays text."""

from typing import Literal

from sage_sidecar.providers.base import ReasoningDelta, TextDelta

OPEN, CLOSE = "<think>", "</think>"
Piece = TextDelta | ReasoningDelta


def _partial_tag_suffix(text: str, tag: str) -> int:
    """How many characters at the end of `text` could be the start of `tag`."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if tag.startswith(text[-size:]):
            return size
    return 0


class ThinkSplitter:
    """Feed text chunks in order; get back answer text and reasoning with the tags removed. Text
    that may be part of a tag is held back until the next chunk (or `flush`) decides."""

    def __init__(self) -> None:
        self._mode: Literal["start", "thinking", "after", "answer"] = "start"
        self._held = ""

    def feed(self, chunk: str) -> list[Piece]:
        text, self._held = self._held + chunk, ""
        out: list[Piece] = []
        while text:
            if self._mode == "answer":
                out.append(TextDelta(text))
                break
            if self._mode == "start":
                lead = text.lstrip()
                if lead.startswith(OPEN):
                    self._mode, text = "thinking", lead[len(OPEN) :]
                    continue
                if not lead or OPEN.startswith(lead):
                    self._held = text  # blank, or maybe the start of a tag: wait and see
                    break
                self._mode = "answer"
                continue
            if self._mode == "after":  # the blank lines between the block and the answer
                text = text.lstrip()
                if text:
                    self._mode = "answer"
                continue
            at = text.find(CLOSE)  # thinking
            if at >= 0:
                if at:
                    out.append(ReasoningDelta(text[:at]))
                self._mode, text = "after", text[at + len(CLOSE) :]
                continue
            keep = _partial_tag_suffix(text, CLOSE)
            if len(text) > keep:
                out.append(ReasoningDelta(text[: len(text) - keep]))
            self._held = text[len(text) - keep :]
            break
        return out

    def flush(self) -> list[Piece]:
        """The end of the stream: what was held back is taken for what it looked like."""
        held, self._held = self._held, ""
        if self._mode == "thinking" and held:
            return [ReasoningDelta(held)]
        return [TextDelta(held)] if held.strip() else []
