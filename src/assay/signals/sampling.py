"""Deterministic sampling: whether a rule or an online scorer keeps a trace.

A trace is kept when a hash of (what samples, its id, the trace id) falls below the
rate. Every worker, every rerun and every backfill agrees on the same traces with
no state to share, and a higher rate keeps a superset of a lower one's traces.
"""

from __future__ import annotations

import hashlib
import math

from assay.errors import InvalidInput

_SCALE = float(1 << 64)


def sample_point(kind: str, owner_id: int, trace_id: str) -> float:
    """Where a trace falls in [0, 1) for one sampler.

    Args:
        kind: What samples (``rule``, ``scorer``), so a rule and a scorer that share
            a row id draw independent samples.
        owner_id: The rule's or scorer's row id.
        trace_id: The trace id.
    """
    digest = hashlib.blake2b(f"{kind}:{owner_id}:{trace_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / _SCALE


def sampled(kind: str, owner_id: int, trace_id: str, rate: float) -> bool:
    """Whether the sampler keeps the trace at ``rate`` (in (0, 1]; 1 keeps all)."""
    if rate >= 1.0:
        return True
    return sample_point(kind, owner_id, trace_id) < rate


def check_rate(rate: float, *, field: str = "sample_rate") -> float:
    """A sample rate, checked to be in (0, 1].

    Raises:
        InvalidInput: Not a number in (0, 1].
    """
    if (
        isinstance(rate, bool)
        or not isinstance(rate, int | float)
        or not math.isfinite(rate)
        or not 0.0 < rate <= 1.0
    ):
        raise InvalidInput(f"{field}: must be a number in (0, 1]; got {rate!r}")
    return float(rate)
