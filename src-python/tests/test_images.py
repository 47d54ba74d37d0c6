"""Images attached to a message: checked by content, downscaled, stored, sent to the model as an
image part (OpenAI-compatible `image_url`, Anthropic `image` block) through the scripted server,
refused with `no_vision` for a text-only model, and carried by every export."""

import base64
import io
import struct
import zlib

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from sage_sidecar.providers.anthropic import request_json as anthropic_request
from sage_sidecar.providers.base import ChatMessage, ChatRequest

from chat_client import ChatSocket, add_scripted_provider


def image_bytes(fmt: str, size: tuple[int, int] = (64, 48), frames: int = 1) -> bytes:
    out = io.BytesIO()
    colours = [(200, 30, 30), (30, 200, 30), (30, 30, 200)]
    pictures = [Image.new("RGB", size, colours[i % 3]) for i in range(frames)]
    extra = {"save_all": True, "append_images": pictures[1:]} if frames > 1 else {}
    pictures[0].save(out, fmt, **extra)
    return out.getvalue()


def upload(client, auth, *files: tuple[str, bytes]):
    return client.post(
        "/api/attachments", headers=auth, files=[("files", (name, data)) for name, data in files]
    )


@pytest.fixture
def chat(client: TestClient, auth, api_key, scripted):
    add_scripted_provider(client, auth, scripted)
    with ChatSocket(client, api_key) as socket:
        yield socket


def decoded(url: str) -> Image.Image:
    header, _, data = url.partition(";base64,")
    assert header.startswith("data:image/")
    return Image.open(io.BytesIO(base64.b64decode(data)))


@pytest.mark.parametrize(("name", "fmt"), [("a.png", "PNG"), ("b.jpg", "JPEG"),
                                            ("c.webp", "WEBP"), ("d.gif", "GIF")])  # fmt: skip
def test_each_format_is_accepted_and_stored(client, auth, settings, name, fmt):
    response = upload(client, auth, (name, image_bytes(fmt, frames=3 if fmt == "GIF" else 1)))
    assert response.status_code == 201, response.text
    (out,) = response.json()
    assert (out["kind"], out["width"], out["height"]) == ("image", 64, 48)
    served = client.get(f"/api/attachments/{out['id']}/image", headers=auth)
    assert served.status_code == 200 and served.headers["content-type"] == out["mime"]
    picture = Image.open(io.BytesIO(served.content))
    assert picture.size == (64, 48)
    if fmt == "GIF":  # the first frame, kept as PNG
        assert out["mime"] == "image/png" and picture.convert("RGB").getpixel((1, 1)) == (
            200,
            30,
            30,
        )
    assert list((settings.storage_dir / "attachments").glob(f"{out['id']}.*"))


def test_a_large_image_is_downscaled_before_it_is_stored(client, auth):
    (out,) = upload(client, auth, ("big.png", image_bytes("PNG", (4096, 1024)))).json()
    assert (out["width"], out["height"]) == (2048, 512)


@pytest.mark.parametrize("data", [b"just text, named like a picture", b"\x89PNG\r\n\x1a\nbroken"])
def test_a_file_that_is_not_an_image_is_refused_by_its_content(client, auth, data):
    response = upload(client, auth, ("photo.png", data))
    assert response.status_code == 422
    assert response.json()["code"] == "attachment.bad_image"


def bomb_png(width: int, height: int) -> bytes:
    """A 1×1 PNG whose header claims `width`×`height`: tiny on disk, huge if decoded."""
    data = bytearray(image_bytes("PNG", (1, 1)))
    header = b"IHDR" + struct.pack(">II", width, height) + bytes(data[24:29])
    data[12:29] = header
    data[29:33] = struct.pack(">I", zlib.crc32(header))
    return bytes(data)


@pytest.mark.parametrize("side", [8_000, 60_000])  # past Sage's limit; past Pillow's own
def test_an_image_bomb_is_refused_before_it_is_decoded(client, auth, side):
    response = upload(client, auth, ("bomb.png", bomb_png(side, side)))
    assert response.status_code == 422 and "too large" in response.json()["params"]["reason"]


def test_the_image_goes_to_the_model_as_an_image_url_part(chat, client, auth, scripted):
    (picture,) = upload(client, auth, ("cat.png", image_bytes("PNG"))).json()
    scripted.load([{"text": "A red square."}, {"text": "Still red."}])
    accepted, frames = chat.send("What is this?", attachments=[picture["id"]])
    assert frames[-1]["type"] == "message.completed"
    content = scripted.recorded()[-1]["messages"][-1]["content"]
    assert content[0] == {"type": "text", "text": "What is this?"}
    assert content[1]["type"] == "image_url"
    assert decoded(content[1]["image_url"]["url"]).size == (64, 48)
    saved = client.get(f"/api/conversations/{accepted['conversationId']}/messages", headers=auth)
    (part,) = saved.json()[0]["parts"]
    assert part == {**part, "type": "image", "id": picture["id"], "mime": "image/png"}
    # Later turns send it again with its message.
    chat.send("And now?", conversationId=accepted["conversationId"])
    history = scripted.recorded()[-1]["messages"]
    assert [m["content"][1]["type"] for m in history if isinstance(m["content"], list)] == [
        "image_url"
    ]


def test_every_export_carries_the_image(chat, client, auth, scripted):
    (picture,) = upload(client, auth, ("cat.png", image_bytes("PNG"))).json()
    scripted.load([{"text": "A red square."}])
    accepted, _ = chat.send("Look", attachments=[picture["id"]])
    path = f"/api/conversations/{accepted['conversationId']}/export"
    exported = client.get(path, headers=auth).json()
    assert decoded(exported["messages"][0]["parts"][0]["dataUrl"]).size == (64, 48)
    markdown = client.get(path, params={"format": "markdown"}, headers=auth).text
    assert "![cat.png](data:image/png;base64," in markdown
    page = client.get(path, params={"format": "html"}, headers=auth).text
    assert '<img src="data:image/png;base64,' in page


def test_a_text_only_model_gets_a_coded_failure_not_a_provider_error(chat, client, auth, scripted):
    (picture,) = upload(client, auth, ("cat.png", image_bytes("PNG"))).json()
    accepted, _ = chat.send("hi")
    conversation = accepted["conversationId"]
    client.patch(
        f"/api/conversations/{conversation}", headers=auth, json={"model": "deepseek-chat"}
    )
    scripted.load([{"text": "never sent"}])
    _, frames = chat.send("What is this?", conversationId=conversation, attachments=[picture["id"]])
    failed = frames[-1]
    assert failed["type"] == "message.failed" and failed["code"] == "no_vision"
    assert failed["params"] == {"model": "deepseek-chat"}
    assert scripted.recorded() == []  # the provider was never asked
    # Without a new image, the conversation goes on (the old image is left out).
    scripted.load([{"text": "Text only."}])
    _, frames = chat.send("Just text then", conversationId=conversation)
    assert frames[-1]["type"] == "message.completed"
    assert all(isinstance(m["content"], str) for m in scripted.recorded()[-1]["messages"])


def test_anthropic_requests_carry_image_blocks():
    url = "data:image/png;base64," + base64.b64encode(image_bytes("PNG")).decode()
    body = anthropic_request(ChatRequest("claude", [ChatMessage("user", "what?", images=[url])]))
    blocks = body["messages"][0]["content"]
    assert blocks[0]["type"] == "image" and blocks[0]["source"]["media_type"] == "image/png"
    assert blocks[1] == {"type": "text", "text": "what?"}


@pytest.mark.parametrize(
    ("model", "sees"),
    [("mistral-7b-instruct", True), ("llava-text", False)],  # Ollama's answer beats the table
)
def test_an_ollama_provider_is_asked_which_models_see(client, auth, api_key, scripted, model, sees):
    body = {"name": "Local", "kind": "ollama", "base_url": scripted.base_url,
            "default_model": model}  # fmt: skip
    assert client.post("/api/providers", json=body, headers=auth).status_code == 201
    (picture,) = upload(client, auth, ("cat.png", image_bytes("PNG"))).json()
    scripted.load([{"text": "Seen."}])
    with ChatSocket(client, api_key) as chat:
        _, frames = chat.send("What is this?", attachments=[picture["id"]])
    if sees:
        assert frames[-1]["type"] == "message.completed"
        assert scripted.recorded()[-1]["messages"][-1]["content"][1]["type"] == "image_url"
    else:
        assert frames[-1]["code"] == "no_vision" and scripted.recorded() == []


def test_an_image_alone_is_a_message_of_its_own(chat, client, auth, scripted):
    (picture,) = upload(client, auth, ("cat.png", image_bytes("PNG"))).json()
    scripted.load([{"text": "A red square."}])
    accepted, frames = chat.send("", attachments=[picture["id"]])
    assert frames[-1]["type"] == "message.completed"
    content = scripted.recorded()[-1]["messages"][-1]["content"]
    assert [c["type"] for c in content] == ["image_url"]  # no empty text part
    conversation = client.get(f"/api/conversations/{accepted['conversationId']}", headers=auth)
    assert conversation.json()["title"] == "cat.png"
