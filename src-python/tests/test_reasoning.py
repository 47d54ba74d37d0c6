"""A model's thinking streams apart from its answer: OpenAI-compatible `reasoning_content` /
`reasoning` deltas, Anthropic thinking blocks and `<think>` tags (cut anywhere across chunks), all
through the scripted server over real HTTP; the answer text, the history sent back, the title and
the exports never contain it."""

import httpx
import pytest
from fastapi.testclient import TestClient

from sage_sidecar.demo.scripted import RunningScripted
from sage_sidecar.providers.anthropic import AnthropicClient
from sage_sidecar.providers.base import ChatMessage, ChatRequest, ReasoningDelta, TextDelta
from sage_sidecar.providers.openai_compat import OpenAICompatClient
from sage_sidecar.providers.think_tags import ThinkSplitter

from chat_client import ChatSocket, add_scripted_provider, text_of

THOUGHT = "The user greets me. I should greet back."
ANSWER = "Hello! How can I help?"
TAGGED = f"<think>\n{THOUGHT}\n</think>\n\n{ANSWER}"


def split(chunks: list[str]) -> tuple[str, str]:
    splitter = ThinkSplitter()
    pieces = [p for c in chunks for p in splitter.feed(c)] + splitter.flush()
    thought = "".join(p.text for p in pieces if isinstance(p, ReasoningDelta))
    answer = "".join(p.text for p in pieces if isinstance(p, TextDelta))
    return thought, answer


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 8, 9, 13])
def test_think_tags_split_at_every_chunk_boundary(size):
    for offset in range(size):  # every place a cut can fall, tags included
        chunks = [TAGGED[:offset]] + [
            TAGGED[i : i + size] for i in range(offset, len(TAGGED), size)
        ]
        assert split(chunks) == (f"\n{THOUGHT}\n", ANSWER)


@pytest.mark.parametrize(
    ("chunks", "expected"),
    [
        (["Plain answer."], ("", "Plain answer.")),
        (["<thi", "s is not a tag>"], ("", "<this is not a tag>")),
        (["<", "b>bold</b>"], ("", "<b>bold</b>")),
        (["Use ", "<think>", " tags"], ("", "Use <think> tags")),  # mid-answer: text
        (["<think>cut off before clos", "</thi"], ("cut off before clos</thi", "")),
        (["<thi"], ("", "<thi")),
        (["  ", "<think>a</think>b"], ("a", "b")),
    ],
)
def test_think_tag_edge_cases(chunks, expected):
    assert split(chunks) == expected


@pytest.fixture(scope="module")
def server():
    with RunningScripted() as running:
        yield running


def _request() -> ChatRequest:
    return ChatRequest(model="m", messages=[ChatMessage("user", "hi")])


async def _events(client_type, base_url: str):
    async with httpx.AsyncClient() as http:
        client = client_type(base_url, "k", http)
        return [e async for e in client.stream_chat(_request())]


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
async def test_openai_compatible_reasoning_fields(server, field):
    server.load([{"reasoning": ["Think", "ing."], "reasoning_field": field, "text": "Done."}])
    events = await _events(OpenAICompatClient, server.base_url)
    assert [e.text for e in events if isinstance(e, ReasoningDelta)] == ["Think", "ing."]
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Done."


async def test_anthropic_thinking_blocks(server):
    server.load([{"reasoning": ["Let me ", "see."], "text": "Four."}])
    events = await _events(AnthropicClient, f"http://127.0.0.1:{server.port}")
    assert [e.text for e in events if isinstance(e, ReasoningDelta)] == ["Let me ", "see."]
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Four."


@pytest.fixture
def chat(client: TestClient, auth, api_key, scripted):
    add_scripted_provider(client, auth, scripted)
    with ChatSocket(client, api_key) as socket:
        yield socket


@pytest.mark.settings(auto_title=True)
def test_reasoning_is_kept_apart_from_answer_history_title_and_exports(
    chat: ChatSocket, client, auth, scripted
):
    tagged = ["<thi", "nk>Secret plan", " of the model</th", "ink>\n\nThe answer."]
    scripted.load([
        {"reasoning": ["Deep ", "thoughts."], "text": "First answer."},
        {"text": "A title"},
        {"chunks": tagged},
    ])  # fmt: skip
    accepted, frames = chat.send("hello there")
    thinking = [f for f in frames if f["type"] == "reasoning.delta"]
    assert [f["delta"] for f in thinking] == ["Deep ", "thoughts."]
    assert [f["started"] for f in thinking] == [True, False]
    assert all(f["durationMs"] >= 0 for f in thinking)
    assert text_of(frames) == "First answer." and frames[-1]["content"] == "First answer."
    chat.until(lambda f: f["type"] == "conversation.titled")
    conversation_id = accepted["conversationId"]
    title_request = scripted.recorded()[-1]
    assert "Deep" not in str(title_request)

    _, frames = chat.send("again", conversationId=conversation_id)
    assert text_of(frames) == "The answer."
    assert "".join(f["delta"] for f in frames if f["type"] == "reasoning.delta") == (
        "Secret plan of the model"
    )
    assert "Deep" not in str(scripted.recorded()[-1]["messages"])  # history: answers only

    saved = client.get(f"/api/conversations/{conversation_id}/messages", headers=auth).json()
    replies = [m for m in saved if m["role"] == "assistant"]
    assert [m["content"] for m in replies] == ["First answer.", "The answer."]
    assert [(p["type"], p["text"]) for p in replies[0]["parts"]] == [
        ("reasoning", "Deep thoughts.")
    ]
    assert replies[1]["parts"][0]["text"] == "Secret plan of the model"
    assert (
        client.get(f"/api/conversations/{conversation_id}", headers=auth).json()["title"]
        == "A title"
    )
    for fmt in ("markdown", "json", "html"):
        exported = client.get(f"/api/conversations/{conversation_id}/export",
                              params={"format": fmt}, headers=auth).text  # fmt: skip
        assert "Deep" not in exported and "Secret" not in exported
        assert "The answer." in exported
