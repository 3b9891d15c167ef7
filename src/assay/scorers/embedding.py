"""The ``embedding`` scorer: cosine similarity of the output and the reference.

Both are embedded by an embedder from :mod:`assay.embeddings` (the offline default
``minilm``, all-MiniLM-L6-v2, unless the ``embedder`` argument names another), whose
rows are unit vectors, so the cosine is their dot product. The value is
``max(0, cosine)``: a negative cosine means "unrelated" as much as zero does, and a
score lives in [0, 1]. With a ``threshold`` the score passes at or above it.

Embedding runs in a worker thread (the default embedder releases the GIL in
onnxruntime; an API embedder blocks on HTTP), so a run's event loop keeps serving
other cases meanwhile. The embedder is created on the first score, not at build.
"""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING

from pydantic import Field, SecretStr

from assay.errors import InvalidInput
from assay.scorers.args import ScorerArgs, spec_of
from assay.scorers.base import Score, ScoreInput, ScorerError
from assay.scorers.registry import register_scorer
from assay.scorers.text import as_text

if TYPE_CHECKING:
    from assay.embeddings.base import Embedder

_SECRET = ("api_key",)


class EmbeddingArgs(ScorerArgs):
    """Arguments of ``embedding``."""

    embedder: str = Field(
        default="minilm",
        min_length=1,
        description="Embedder spec (`minilm`, `sentence-transformers:MODEL`, "
        "`openai:MODEL@BASE_URL`); see docs/concepts/embeddings.md.",
    )
    threshold: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="Pass at or above this similarity; no pass/fail when unset.",
    )
    api_key: SecretStr | None = Field(default=None, description="Key for an API embedder.")


def _check_kind(spec: str) -> None:
    """Refuse an unknown embedder kind when the scorer is built, not on its first case."""
    from assay.embeddings import embedder_kinds

    kinds = embedder_kinds()
    kind = spec.strip().partition(":")[0]
    if kind not in kinds:
        raise InvalidInput(
            f"scorer 'embedding': argument 'embedder': unknown embedder {spec!r}; "
            f"known kinds: {', '.join(kinds)}"
        )


@register_scorer("embedding", args=EmbeddingArgs, secret=_SECRET)
class EmbeddingScorer:
    """Cosine similarity between the output and the reference, from 0 to 1."""

    def __init__(
        self, args: EmbeddingArgs | None = None, *, embedder: Embedder | None = None
    ) -> None:
        """Build the scorer.

        Args:
            args: Its arguments; the default embedder and no threshold when ``None``.
            embedder: Use this embedder instead of the one ``args.embedder`` names
                (for tests: anything with ``model_id`` and ``embed(texts)`` returning
                unit rows). The spec still names ``args.embedder``.

        Raises:
            InvalidInput: ``args.embedder`` names an unknown kind of embedder.
        """
        self.args = args or EmbeddingArgs()
        self.spec = spec_of("embedding", self.args, _SECRET)
        self._embedder = embedder
        self._lock = threading.Lock()
        if embedder is None:
            _check_kind(self.args.embedder)

    def _get_embedder(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                from assay.embeddings import get_embedder

                key = self.args.api_key.get_secret_value() if self.args.api_key else None
                self._embedder = get_embedder(self.args.embedder, api_key=key)
            return self._embedder

    def _similarity(self, output: str, reference: str) -> tuple[float, str]:
        embedder = self._get_embedder()
        rows = embedder.embed([output, reference])
        return float(rows[0] @ rows[1]), embedder.model_id

    async def score(self, case: ScoreInput) -> Score:
        """Embed ``case.output`` and ``case.reference`` and compare them.

        Raises:
            ScorerError: The case has no reference.
        """
        if case.reference is None:
            raise ScorerError("scorer 'embedding' needs a reference, and this case has none")
        cosine, model_id = await asyncio.to_thread(
            self._similarity, as_text(case.output), as_text(case.reference)
        )
        # float32 rounding can put the cosine of identical texts a hair above 1.
        value = min(1.0, max(0.0, cosine))
        metadata = {"cosine": round(cosine, 6), "model_id": model_id}
        threshold = self.args.threshold
        if threshold is None:
            return Score(value, None, f"cosine similarity {cosine:.3f}", metadata)
        passed = value >= threshold
        relation = "at or above" if passed else "below"
        return Score(
            value, passed, f"cosine similarity {cosine:.3f} {relation} {threshold:g}", metadata
        )
