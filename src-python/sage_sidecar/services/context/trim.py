"""Fitting a request into a token budget (pure: no I/O). The system prompt and the current
exchange (the user's last message, the knowledge passages put before it, and this reply's tool
steps) are kept; earlier turns go, oldest first, each whole: a user message with the replies and
tool steps after it, so a tool call is never sent without its result or a reply without its
question. What is still too big on its own (a huge message, a long tool result) is shortened with
a note saying so, rather than sent to fail at the provider."""

from dataclasses import dataclass, field, replace

from sage_sidecar.providers.base import ChatMessage
from sage_sidecar.services.context.tokens import cut_to_tokens, message_tokens, text_tokens

CUT_NOTE = "\n\n[… {chars} characters left out here to fit the model's context window]"
MIN_KEPT_TOKENS = 64  # a message shortened to fit keeps at least its start


@dataclass
class Fitted:
    messages: list[ChatMessage]
    dropped: list[ChatMessage] = field(default_factory=list)  # earlier turns left out, in order
    truncated: bool = False  # a message was shortened to fit
    kept_from: str | None = None  # the first stored message still sent, after a cut

    @property
    def changed(self) -> bool:
        return bool(self.dropped) or self.truncated


def _split(messages: list[ChatMessage]) -> tuple[list[ChatMessage], list[list[ChatMessage]],
                                                  list[ChatMessage]]:  # fmt: skip
    """Head (the leading system messages), earlier turns, and the current exchange."""
    start = 0
    while start < len(messages) and messages[start].role == "system":
        start += 1
    last_user = next((i for i in range(len(messages) - 1, start - 1, -1)
                      if messages[i].role == "user"), len(messages))  # fmt: skip
    current_from = last_user
    while current_from > start and messages[current_from - 1].role == "system":
        current_from -= 1  # the knowledge passages in front of the question go with it
    turns: list[list[ChatMessage]] = []
    for message in messages[start:current_from]:
        if message.role == "user" or not turns:
            turns.append([])
        turns[-1].append(message)
    return messages[:start], turns, messages[current_from:]


def _shorten(message: ChatMessage, tokens: int) -> ChatMessage:
    text = message.content or ""
    note_tokens = text_tokens(CUT_NOTE.format(chars=len(text)))
    kept = cut_to_tokens(text, max(MIN_KEPT_TOKENS, tokens - note_tokens))
    return replace(message, content=kept + CUT_NOTE.format(chars=len(text) - len(kept)))


def fit(messages: list[ChatMessage], budget: int, extra: int = 0) -> Fitted:
    """`messages` within `budget` tokens, with `extra` tokens to spare (a summary to come)."""
    budget -= extra
    total = sum(message_tokens(m) for m in messages)
    if total <= budget:
        return Fitted(messages)
    head, turns, current = _split(messages)
    dropped: list[ChatMessage] = []
    while turns and total > budget:
        turn = turns.pop(0)
        dropped += turn
        total -= sum(message_tokens(m) for m in turn)
    kept = [m for t in turns for m in t] + current
    fitted = Fitted(head + kept, dropped, kept_from=next((m.ref for m in kept if m.ref), None))
    # Still too big: shorten the largest messages (a pasted book, a long tool result), the
    # system prompt last of all.
    for _ in range(len(fitted.messages)):
        if total <= budget:
            break
        candidates = [
            i for i, m in enumerate(fitted.messages) if text_tokens(m.content) > MIN_KEPT_TOKENS
        ]
        if not candidates:
            break
        index = max(candidates, key=lambda i: (i >= len(head), message_tokens(fitted.messages[i])))
        message = fitted.messages[index]
        over = total - budget
        shortened = _shorten(message, text_tokens(message.content) - over)
        total += message_tokens(shortened) - message_tokens(message)
        fitted.messages[index] = shortened
        fitted.truncated = True
    return fitted
