"""Conversation titles: shortened first message at once, the model's title after the answer."""

import time

import pytest

from sage_sidecar.demo.scripted import RunningScripted
from sage_sidecar.services.titles import clean_title

from chat_client import ChatSocket, add_scripted_provider

pytestmark = pytest.mark.settings(auto_title=True)


@pytest.fixture
def chat(client, auth, api_key):
    with RunningScripted() as scripted:
        add_scripted_provider(client, auth, scripted)
        with ChatSocket(client, api_key) as socket:
            yield socket, scripted


def title_of(client, auth, conversation_id):
    return client.get(f"/api/conversations/{conversation_id}", headers=auth).json()["title"]


def test_model_titles_a_new_conversation_after_the_answer(chat, client, auth):
    socket, scripted = chat
    scripted.load([{"text": "Paris."}, {"text": '"Capital of France."'}])
    accepted, frames = socket.send(
        "What is the capital of France? Please answer in one word only, thanks"
    )
    assert frames[-1]["type"] == "message.completed"  # the answer came first
    titled = socket.until(lambda f: f["type"] == "conversation.titled")[-1]
    assert titled == {
        **titled,
        "conversationId": accepted["conversationId"],
        "title": "Capital of France",
    }
    assert title_of(client, auth, accepted["conversationId"]) == "Capital of France"
    title_request = scripted.recorded()[-1]
    assert "tools" not in title_request and title_request["messages"][-1]["role"] == "system"
    # Later turns do not rename it.
    scripted.load([{"text": "Berlin."}])
    socket.send("And Germany?", conversationId=accepted["conversationId"])
    assert len(scripted.recorded()) == 1


@pytest.mark.settings(chat_retry_delays_s=())
def test_a_failed_title_call_keeps_the_shortened_message(chat, client, auth):
    socket, scripted = chat
    long_question = (
        "Explain in detail how photosynthesis converts light energy into chemical energy in plants"
    )
    scripted.load([{"text": "It uses chlorophyll."}, {"error": {"status": 500}}])
    accepted, _ = socket.send(long_question)
    deadline = time.monotonic() + 5
    while len(scripted.recorded()) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)  # the title call happens after the answer, in the background
    assert len(scripted.recorded()) == 2
    time.sleep(0.2)
    title = title_of(client, auth, accepted["conversationId"])
    assert title.startswith("Explain in detail how photosynthesis") and title.endswith("…")
    assert len(title) <= 60


@pytest.mark.parametrize(
    ("raw", "title"),
    [('"Trip to Kyoto"', "Trip to Kyoto"), ("Title: Budget plan.\nextra", "Budget plan"),
     ("**Rust lifetimes**", "Rust lifetimes"), ("  ", "")],
)  # fmt: skip
def test_clean_title(raw, title):
    assert clean_title(raw) == title


def test_the_demo_model_gives_short_titles(chat, client, auth):
    socket, scripted = chat
    scripted.load([])  # no script: the demo model answers, and titles
    accepted, _ = socket.send("What is the time in Tokyo right now please")
    titled = socket.until(lambda f: f["type"] == "conversation.titled")[-1]
    assert titled["title"] == "What is the time in"
