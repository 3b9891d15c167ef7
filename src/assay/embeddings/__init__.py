"""Embeddings: texts to unit vectors, offline by default, cached by (model, text).

The default embedder is all-MiniLM-L6-v2 (int8 ONNX) on onnxruntime, shipped in
installed packages, so nothing is downloaded. Others come from a spec::

    from assay.embeddings import CachedEmbedder, best_matches, get_embedder

    embedder = CachedEmbedder(get_embedder("minilm"), store)
    new = embedder.embed(["How do I reset my password?"])
    matches = best_matches(new, embedder.embed(existing_inputs))
    duplicates = matches.above()  # rows of `new` at cosine >= 0.95

Importing this package loads neither onnxruntime nor torch; models load on first use.
See docs/concepts/embeddings.md.
"""

from assay.embeddings.base import Embedder, Matrix, check_texts, normalize_rows, text_hash
from assay.embeddings.cache import (
    LRU_SIZE,
    CachedEmbedder,
    CacheStats,
    VectorLRU,
    load_vectors,
    save_vectors,
)
from assay.embeddings.duplicates import NEAR_DUPLICATE_COSINE, BestMatches, best_matches
from assay.embeddings.minilm import MiniLMEmbedder, minilm_model_id
from assay.embeddings.openai_api import OpenAIEmbedder
from assay.embeddings.registry import (
    DEFAULT_EMBEDDER,
    EmbedderFactory,
    EmbedderOptions,
    embedder_kinds,
    get_embedder,
    register_embedder,
)
from assay.embeddings.sbert import SentenceTransformerEmbedder

__all__ = [
    "DEFAULT_EMBEDDER",
    "LRU_SIZE",
    "NEAR_DUPLICATE_COSINE",
    "BestMatches",
    "CacheStats",
    "CachedEmbedder",
    "Embedder",
    "EmbedderFactory",
    "EmbedderOptions",
    "Matrix",
    "MiniLMEmbedder",
    "OpenAIEmbedder",
    "SentenceTransformerEmbedder",
    "VectorLRU",
    "best_matches",
    "check_texts",
    "embedder_kinds",
    "get_embedder",
    "load_vectors",
    "minilm_model_id",
    "normalize_rows",
    "register_embedder",
    "save_vectors",
    "text_hash",
]
