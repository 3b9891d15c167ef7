"""Embedding benchmark: the default embedder on real English sentences.

The sentences are the distinct turns of the chatterbot-corpus English conversations
(about 1,500), repeated in order until ``--sentences`` are reached; repeats are
embedded again (no cache is involved). The model loads and runs once on a few
sentences before the clock starts, so the figure is steady-state throughput, not
load time (reported separately as ``load_s``).

Prints one JSON line: sentences/s, batch size, threads, mean tokens per sentence,
load time and peak RSS. Usage::

    .venv/bin/python bench/embed.py                       # 2,000 sentences, defaults
    .venv/bin/python bench/embed.py --threads 1 --batch-size 64
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from importlib import resources
from pathlib import Path

import chatterbot_corpus
import yaml
from tokenizers import Tokenizer

from assay.embeddings.minilm import (
    BATCH_SIZE,
    MAX_SEQ_LENGTH,
    TOKENIZER_FILE,
    TOKENIZER_PACKAGE,
    MiniLMEmbedder,
    default_threads,
)


def corpus_sentences() -> list[str]:
    """Distinct turns of the chatterbot-corpus English conversations, in file order."""
    folder = Path(chatterbot_corpus.__file__).parent / "data" / "english"
    seen: dict[str, None] = {}
    for path in sorted(folder.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for convo in data.get("conversations") or []:
            for turn in convo:
                text = str(turn).strip() if turn is not None else ""
                if text:
                    seen.setdefault(text, None)
    if not seen:
        raise SystemExit(f"no conversations found under {folder}")
    return list(seen)


def _cpu_s() -> float:
    """User plus system CPU seconds of this process (all threads).

    Reported beside wall time because the machine may be shared: other load slows
    the wall clock but barely changes the CPU time the work takes.
    """
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sentences", type=int, default=2000, help="sentences to embed")
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="texts per call")
    parser.add_argument("--threads", type=int, default=None, help="onnxruntime threads")
    args = parser.parse_args()

    pool = corpus_sentences()
    texts = [pool[i % len(pool)] for i in range(args.sentences)]
    embedder = MiniLMEmbedder(threads=args.threads, batch_size=args.batch_size)

    started = time.perf_counter()
    embedder.embed(pool[:8])
    load_s = time.perf_counter() - started

    cpu_before = _cpu_s()
    started = time.perf_counter()
    vectors = embedder.embed(texts)
    elapsed = time.perf_counter() - started
    cpu_s = _cpu_s() - cpu_before

    # Tokens per sentence, counted outside the timing, with the embedder's truncation.
    tokenizer = Tokenizer.from_str(
        (resources.files(TOKENIZER_PACKAGE) / TOKENIZER_FILE).read_text(encoding="utf-8")
    )
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=MAX_SEQ_LENGTH)
    tokens = sum(len(e.ids) for e in tokenizer.encode_batch(texts))

    # ru_maxrss is KiB on Linux, bytes on macOS.
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rss_mb = rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024
    print(
        json.dumps(
            {
                "sentences": len(texts),
                "distinct": len(set(texts)),
                "sentences_per_s": round(len(texts) / elapsed, 1),
                "elapsed_s": round(elapsed, 3),
                "cpu_s": round(cpu_s, 3),
                "load_s": round(load_s, 3),
                "batch_size": embedder.batch_size,
                "threads": embedder.threads,
                "default_threads": default_threads(),
                "mean_tokens": round(tokens / len(texts), 1),
                "dim": int(vectors.shape[1]),
                "peak_rss_mb": round(rss_mb, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
