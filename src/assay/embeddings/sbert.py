"""Any sentence-transformers model, on torch (spec ``sentence-transformers:MODEL``).

Optional: it needs ``pip install sentence-transformers`` (which brings torch).
Nothing here imports sentence-transformers or torch until the first embedding, so
the base install never pays for them. By default the model must already be on
disk (a local folder, or in the Hugging Face cache): assay does not download at
run time unless told to.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from assay.embeddings.base import Matrix, check_texts, empty_matrix, normalize_rows
from assay.errors import ConfigError

#: The ``pip install`` that makes this embedder available.
INSTALL_HINT = "pip install sentence-transformers"
#: Texts per forward pass: sentence-transformers' own default for ``encode``.
BATCH_SIZE = 32


def _import_sentence_transformers() -> Any:
    try:
        import sentence_transformers
    except ImportError as exc:
        raise ConfigError(
            "the sentence-transformers embedder needs the sentence-transformers package "
            f"(and torch), which is not installed; run `{INSTALL_HINT}`"
        ) from exc
    return sentence_transformers


class SentenceTransformerEmbedder:
    """A sentence-transformers model, loaded on first use.

    Args:
        model_name: A Hugging Face model id (``sentence-transformers/all-mpnet-base-v2``)
            or the path of a saved model folder.
        device: ``cpu``, ``cuda``, ...; sentence-transformers picks when ``None``.
        batch_size: Texts per forward pass.
        allow_download: Let sentence-transformers fetch a model missing from the
            local Hugging Face cache. Off by default: assay works offline.
    """

    def __init__(
        self,
        model_name: str,
        *,
        device: str | None = None,
        batch_size: int = BATCH_SIZE,
        allow_download: bool = False,
    ) -> None:
        if not model_name:
            raise ConfigError("the sentence-transformers embedder needs a model name")
        if batch_size < 1:
            raise ConfigError(f"embedder batch_size must be at least 1, got {batch_size}")
        self.model_name = model_name
        self.device = device
        self.batch_size = batch_size
        self.allow_download = allow_download
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        """``sentence-transformers:MODEL_NAME``, the spec that rebuilds this embedder."""
        return f"sentence-transformers:{self.model_name}"

    @property
    def dim(self) -> int:
        """The model's sentence embedding size (loads the model)."""
        model = self._load()
        getter = getattr(model, "get_embedding_dimension", None)
        size = getter() if getter is not None else model.get_sentence_embedding_dimension()
        if not isinstance(size, int):
            raise ConfigError(f"{self.model_id} does not report a fixed embedding size")
        return size

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                module = _import_sentence_transformers()
                try:
                    self._model = module.SentenceTransformer(
                        self.model_name,
                        device=self.device,
                        local_files_only=not self.allow_download,
                    )
                except OSError as exc:  # huggingface_hub's "not found locally" errors
                    raise ConfigError(
                        f"cannot load sentence-transformers model {self.model_name!r}: {exc}"
                    ) from exc
            return self._model

    def embed(self, texts: Sequence[str]) -> Matrix:
        """Embed ``texts`` (see :meth:`assay.embeddings.Embedder.embed`)."""
        texts = check_texts(texts)
        if not texts:
            return empty_matrix(self.dim)
        model = self._load()
        vectors = model.encode(
            list(texts),
            batch_size=self.batch_size,
            show_progress_bar=False,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return normalize_rows(np.asarray(vectors, dtype=np.float32))
