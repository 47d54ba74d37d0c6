"""Images attached to a message: checked by content, downscaled, stored, sent to the model as an
image part (OpenAI-compatible `image_url`, Anthropic `image` block) through the scripted server,
refused with `no_vision` for a text-only model, and carried by every export."""

import asyncio
import base64
import http.client
import io
import json
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from proc_tree import children_of

from sage_sidecar.core.errors import InvalidError
from sage_sidecar.knowledge.parse_worker import ParseLimits, ParserPool
from sage_sidecar.providers.anthropic import request_json as anthropic_request
from sage_sidecar.providers.base import ChatMessage, ChatRequest
from sage_sidecar.services import images

from chat_client import ChatSocket, add_scripted_provider
from sidecar_process import read_ready, sidecar_command, sidecar_env


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


# --- decoded in a parse worker, never in the sidecar -------------------------------------------

linux_only = pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS and /proc are Linux")


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def solid_png(width: int, height: int) -> bytes:
    """A real RGB PNG of one colour: ~1000× smaller on disk than decoded (written row by row, so
    the test never holds the picture)."""
    pack = zlib.compressobj(9)
    row = b"\x00" + b"\x7f" * (width * 3)
    body = b"".join(pack.compress(row) for _ in range(height)) + pack.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", body)
            + png_chunk(b"IEND", b""))  # fmt: skip


def with_chunk(png: bytes, kind: bytes, data: bytes) -> bytes:
    """`png` with one more chunk right after its header (IHDR ends at byte 33)."""
    return png[:33] + png_chunk(kind, data) + png[33:]


def many_frames_gif(frames: int) -> bytes:
    pictures = [Image.new("P", (400, 400), i % 256) for i in range(frames)]
    out = io.BytesIO()
    pictures[0].save(out, "GIF", save_all=True, append_images=pictures[1:])
    return out.getvalue()


HOSTILE = {
    # A compressed ICC profile / text that inflates past Pillow's safe size (64 MB of zeros).
    "icc.png": (with_chunk(image_bytes("PNG"), b"iCCP", b"p\x00\x00" + zlib.compress(bytes(2**26))),
                "damaged image"),
    "ztxt.png": (with_chunk(image_bytes("PNG"), b"zTXt", b"k\x00\x00" + zlib.compress(bytes(2**26))),
                 "damaged image"),
    "cut.png": (image_bytes("PNG", (512, 512))[:-300], "damaged image"),
    "cut.jpg": (image_bytes("JPEG", (512, 512))[:200], "damaged image"),
    "evil.gif": (b"GIF89a" + b"\xff" * 64, "not a PNG, JPEG, WebP or GIF image"),
    "icon.png": (image_bytes("BMP"), "not a PNG, JPEG, WebP or GIF image"),  # only four decoders
}  # fmt: skip


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_image_is_refused_with_a_readable_reason(client, auth, settings, name):
    data, reason = HOSTILE[name]
    response = upload(client, auth, (name, data))
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "attachment.bad_image" and body["params"]["name"] == name
    assert body["params"]["reason"].startswith(reason), body["params"]
    assert list((settings.storage_dir / "attachments").iterdir()) == []  # nothing left behind


def test_a_gif_with_many_frames_keeps_only_its_first(client, auth):
    started = time.perf_counter()
    response = upload(client, auth, ("long.gif", many_frames_gif(300)))
    assert response.status_code == 201, response.text
    assert (response.json()[0]["width"], response.json()[0]["height"]) == (400, 400)
    assert time.perf_counter() - started < 20  # the other 299 frames are never decoded


@linux_only
def test_a_bomb_under_the_pixel_cap_is_stopped_by_the_workers_memory_limit(tmp_path):
    """7000×7000 passes MAX_PIXELS but decodes to ~200 MB, twice (RGB, then RGBA): past a
    300 MB worker's address space. The worker fails it with the reason, is replaced, and the next
    image is read; the sidecar's process never held the picture."""
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(solid_png(7000, 7000))
    good = tmp_path / "good.png"
    good.write_bytes(image_bytes("PNG"))

    async def run() -> None:
        pool = ParserPool(ParseLimits(timeout_s=60, memory_mb=300))
        try:
            with pytest.raises(InvalidError) as refused:
                await images.normalise(pool, bomb, tmp_path / "out-bomb", "bomb.png")
            assert refused.value.code == "attachment.bad_image"
            assert "more than 300 MB" in refused.value.params["reason"]
            assert not list(tmp_path.glob("out-bomb.*"))
            stored = await images.normalise(pool, good, tmp_path / "out-good", "good.png")
            assert (stored.mime, stored.width, stored.height) == ("image/png", 64, 48)
            assert Image.open(tmp_path / "out-good.png").size == (64, 48)
            assert pool.started == 2  # the bomb's worker was not kept
        finally:
            await pool.close()

    asyncio.run(asyncio.wait_for(run(), 120))


@linux_only
def test_a_decode_over_budget_is_stopped_and_the_loop_keeps_its_pace(tmp_path):
    big = tmp_path / "big.png"
    big.write_bytes(solid_png(6000, 6000))

    async def run() -> float:
        pool = ParserPool(ParseLimits(timeout_s=0.2))
        worst, done = 0.0, asyncio.Event()

        async def ticker() -> None:
            nonlocal worst
            last = time.perf_counter()
            while not done.is_set():
                await asyncio.sleep(0.01)
                now = time.perf_counter()
                worst, last = max(worst, now - last - 0.01), now

        ticking = asyncio.create_task(ticker())
        try:
            with pytest.raises(InvalidError) as refused:
                await images.normalise(pool, big, tmp_path / "out", "big.png")
            assert "took longer than 0.2 s" in refused.value.params["reason"]
            assert pool.worker_pids() == []  # killed
        finally:
            done.set()
            await ticking
            await pool.close()
        return worst

    # In a thread, this decode held Python's lock (and the loop) for the whole resize.
    assert asyncio.run(asyncio.wait_for(run(), 60)) < 0.5


def multipart(name: str, data: bytes) -> tuple[bytes, str]:
    boundary = "sage-test-boundary"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n").encode() + data + (
            f"\r\n--{boundary}--\r\n").encode()  # fmt: skip
    return body, f"multipart/form-data; boundary={boundary}"


def mapped_pillow(pid: int) -> bool:
    """Whether Pillow's decoder library (`PIL/_imaging…so`) is loaded in that process."""
    return "_imaging" in Path(f"/proc/{pid}/maps").read_text()


@linux_only
def test_the_real_sidecar_never_loads_pillow_its_worker_decodes(tmp_path):
    """A good image goes end to end through a real sidecar process, a bomb is refused; Pillow's
    C library is mapped in a parse worker (a child of the sidecar) and never in the sidecar."""
    env = sidecar_env(tmp_path / "data")
    proc = subprocess.Popen(sidecar_command(), env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)  # fmt: skip
    try:
        ready = read_ready(proc, timeout=60)

        def post(name: str, data: bytes) -> tuple[int, dict]:
            body, content_type = multipart(name, data)
            conn = http.client.HTTPConnection("127.0.0.1", ready.port, timeout=60)
            conn.request("POST", "/api/attachments", body=body, headers={
                "Authorization": f"Bearer {env['SAGE_API_KEY']}", "Content-Type": content_type})  # fmt: skip
            response = conn.getresponse()
            return response.status, json.loads(response.read())

        status, out = post("cat.png", image_bytes("PNG", (3000, 1500)))
        assert status == 201, out
        assert (out[0]["kind"], out[0]["width"], out[0]["height"]) == ("image", 2048, 1024)
        status, refused = post("bomb.png", bomb_png(60_000, 60_000))
        assert status == 422 and refused["code"] == "attachment.bad_image", refused
        served = api_call_raw(
            ready.port, env["SAGE_API_KEY"], f"/api/attachments/{out[0]['id']}/image"
        )
        assert Image.open(io.BytesIO(served)).size == (2048, 1024)
        assert not mapped_pillow(ready.pid), "the sidecar itself loaded Pillow"
        workers = children_of(ready.pid)
        assert any(mapped_pillow(pid) for pid in workers), workers
    finally:
        proc.kill()
        proc.wait(timeout=10)


def api_call_raw(port: int, key: str, path: str) -> bytes:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path, headers={"Authorization": f"Bearer {key}"})
    response = conn.getresponse()
    assert response.status == 200
    return response.read()
