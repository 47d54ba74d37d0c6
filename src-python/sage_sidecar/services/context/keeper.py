"""Keeps each model call of a reply within the model's context window: counts the request
(messages, tool schemas, the answer's reserved tokens), and when it would not fit applies the
agent's policy (`drop` or `summarise`, trim.py and summary.py), records the cut on the reply as a
context part and announces it (`context.trimmed`). Never fails the reply: a summary that cannot be
made falls back to dropping."""

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sage_sidecar.providers.base import ChatMessage, ProviderError, ToolSpec
from sage_sidecar.schemas.protocol.parts import ContextPart
from sage_sidecar.services.context import summary as summaries
from sage_sidecar.services.context import trim
from sage_sidecar.services.context.limits import ContextWindow, remember
from sage_sidecar.services.context.tokens import tools_tokens
from sage_sidecar.storage.db import Database

log = logging.getLogger(__name__)

# The answer's share of the window when the agent sets no max tokens: what most replies need,
# and never more than a quarter of a small window.
ANSWER_RESERVE = 4_096
# Kept free beyond the estimate (which already errs high on ordinary text): for what the chat
# templates add that Sage cannot see.
SAFETY_FRACTION = 0.05

# How providers say a request is over the model's window: OpenAI "maximum context length is N
# tokens" (context_length_exceeded), Anthropic "prompt is too long", llama.cpp / LM Studio
# "exceeds the context size", vLLM "maximum model length", Ollama "exceeds … context".
_OVERFLOW = re.compile(
    r"context[_ ]length|context (window|size)|maximum context|prompt is too long|too many tokens"
    r"|maximum model length|exceeds? the (model'?s )?(context|maximum)",
    re.IGNORECASE,
)
SHRINK = 0.6  # what is left of the window after a provider said it overflowed

Ask = Callable[[list[ChatMessage]], Awaitable[str]]
Announce = Callable[[ContextPart], Awaitable[None]]


@dataclass
class ContextKeeper:
    db: Database
    conversation_id: str
    window: ContextWindow
    policy: str  # drop | summarise
    max_tokens: int | None  # the answer's budget the agent or conversation set
    part: ContextPart | None = None  # this reply's marker, once something was cut
    cache_key: tuple[str, str] | None = None  # where limits.py keeps this model's window
    _summaries: dict[str, str] = field(default_factory=dict)  # this reply's, by digest

    @property
    def reserve(self) -> int:
        if self.max_tokens is not None:
            return min(self.max_tokens, self.window.tokens // 2)
        return min(ANSWER_RESERVE, self.window.tokens // 4)

    def budget(self, tools: list[ToolSpec]) -> int:
        free = self.window.tokens - self.reserve - tools_tokens(tools)
        return max(0, int(free - self.window.tokens * SAFETY_FRACTION))

    def shrink(self, error: ProviderError) -> bool:
        """The provider refused the request as too long for the model: fit into less next time
        (True), or it was another error (False)."""
        if error.kind != "bad_request" or not _OVERFLOW.search(str(error)):
            return False
        tokens = max(1_024, int(self.window.tokens * SHRINK))
        if tokens >= self.window.tokens:
            return False
        log.warning("the provider says the request was over the model's window; %d → %d tokens",
                    self.window.tokens, tokens)  # fmt: skip
        self.window = ContextWindow(tokens, self.window.source)
        if self.cache_key is not None:  # the next reply starts from what was learnt
            remember(self.cache_key, self.window)
        return True

    async def fit(
        self, messages: list[ChatMessage], tools: list[ToolSpec], ask: Ask, announce: Announce
    ) -> list[ChatMessage]:
        budget = self.budget(tools)
        fitted = trim.fit(messages, budget)
        if not fitted.changed:
            return messages
        action = "dropped"
        text = digest = None
        if self.policy == "summarise" and fitted.dropped:
            with_room = trim.fit(messages, budget, extra=summaries.SUMMARY_TOKENS)
            try:
                text, digest = await self._summary(with_room.dropped, ask, budget)
            except ProviderError as error:  # fall back to dropping; the reply goes on
                log.warning("summary of earlier turns failed (%s); dropping them", error.kind)
            else:
                lead = next((i for i, m in enumerate(messages) if m.role != "system"), 0)
                note = ChatMessage("system", summaries.SUMMARY_LEAD + text)
                fitted = with_room
                fitted.messages.insert(lead, note)  # right after the system prompt
                action = "summarised"
        await self._mark(fitted, action, text, digest, announce)
        return fitted.messages

    async def _summary(self, dropped: list[ChatMessage], ask: Ask, budget: int) -> tuple[str, str]:
        if not self._summaries:
            self._summaries = await summaries.cached(self.db, self.conversation_id)
        input_tokens = max(256, budget - summaries.SUMMARY_TOKENS - 200)
        text, digest = await summaries.summarise(dropped, self._summaries, ask, input_tokens)
        self._summaries[digest] = text
        return text, digest

    async def _mark(self, fitted: trim.Fitted, action: str, text: str | None,
                    digest: str | None, announce: Announce) -> None:  # fmt: skip
        part = ContextPart(action="summarised" if action == "summarised" else "dropped",
                           messages=len(fitted.dropped), kept_from=fitted.kept_from,
                           truncated=fitted.truncated, window=self.window.tokens,
                           summary=text, covers=digest)  # fmt: skip
        if self.part is not None:
            if part.model_dump() == self.part.model_dump():
                return  # the same cut as this reply's previous model call
            part.messages = max(part.messages, self.part.messages)
            part.truncated = part.truncated or self.part.truncated
            for name in ContextPart.model_fields:  # update in place: the writer holds it
                setattr(self.part, name, getattr(part, name))
            await announce(self.part)
            return
        self.part = part
        await announce(part)
