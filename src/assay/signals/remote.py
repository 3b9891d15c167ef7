"""What an online scorer may do when it is created over the REST API.

A project API key is not an administrator's credential: every instrumented app
holds one (it is in ``OTEL_EXPORTER_OTLP_HEADERS``). An online scorer created with
it runs in the server's worker, on traces whose text the same key can write. So the
REST API accepts only scorers that run no code of the caller's choosing and send
nothing to an address the server's administrator did not list:

- ``exact``, ``contains``, ``regex``, ``numeric`` and ``json`` run in-process on
  the trace's text (a ``regex`` search stops after one second, so a backtracking
  pattern cannot stall the worker);
- ``embedding`` with the offline ``minilm`` model, or an ``openai:MODEL@URL``
  embedder whose URL is allowed;
- ``judge`` whose ``base_url`` is allowed. The worker sends the server's
  ``ASSAY_OPENAI_API_KEY`` to it, so an unlisted URL would hand the key out.

Allowed URLs are the ``ASSAY_API_SCORER_BASE_URLS`` setting (default: OpenAI's).
``python`` scorers (a function imported on the server) and plugin scorers are
refused: create them with ``assay online add``, which needs the store itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from assay.errors import Forbidden, InvalidInput
from assay.scorers import ScorerSpec
from assay.scorers.judge import DEFAULT_BASE_URL
from assay.scorers.registry import scorer_names

API_SCORERS = frozenset({"exact", "contains", "regex", "numeric", "json", "embedding", "judge"})
"""Scorer kinds the REST API may create (with the URL checks above)."""

OFFLINE_EMBEDDER = "minilm"


def _url(text: str) -> str:
    return text.strip().rstrip("/").lower()


def parse_api_spec(spec: str | Mapping[str, Any]) -> ScorerSpec:
    """The spec as written, without building the scorer (building imports code)."""
    if isinstance(spec, str):
        return ScorerSpec.parse(spec)
    if isinstance(spec, Mapping):
        return ScorerSpec.from_dict(spec)
    raise InvalidInput(f"scorer spec: expected NAME[:ARGS] or an object; got {spec!r}")


def check_api_spec(spec: ScorerSpec, allowed_urls: Iterable[str]) -> None:
    """Refuse a scorer the REST API may not create.

    Args:
        spec: The scorer as the request gave it.
        allowed_urls: Base URLs a judge or an API embedder may call.

    Raises:
        Forbidden: The kind runs code or calls an address not allowed; the message
            says what to do instead.
    """
    allowed = {_url(u) for u in allowed_urls}
    if spec.name not in API_SCORERS and spec.name not in scorer_names():
        return  # unknown: creating it says so (400), like any other bad spec
    if spec.name not in API_SCORERS:
        raise Forbidden(
            f"scorer {spec.name!r} cannot be created over the REST API: only "
            f"{', '.join(sorted(API_SCORERS))} can (a project key is no admin credential, "
            "and this scorer would run code on the server); create it with "
            "'assay online add', which needs the store"
        )
    if spec.name == "judge":
        base_url = spec.args.get("base_url", DEFAULT_BASE_URL)
        if not isinstance(base_url, str) or _url(base_url) not in allowed:
            raise Forbidden(
                f"judge base_url {base_url!r} is not allowed: the worker sends the "
                "server's API key to it. Allowed: "
                f"{', '.join(sorted(allowed)) or 'none'} (ASSAY_API_SCORER_BASE_URLS)"
            )
    if spec.name == "embedding":
        embedder = spec.args.get("embedder", OFFLINE_EMBEDDER)
        if not isinstance(embedder, str):
            raise InvalidInput(f"embedder must be text, got {embedder!r}")
        if embedder.strip() == OFFLINE_EMBEDDER:
            return
        kind, _, rest = embedder.partition(":")
        url = rest.partition("@")[2]
        if kind != "openai" or not url or _url(url) not in allowed:
            raise Forbidden(
                f"embedder {embedder!r} is not allowed over the REST API: use "
                f"{OFFLINE_EMBEDDER!r}, or openai:MODEL@URL with a URL in "
                "ASSAY_API_SCORER_BASE_URLS"
            )
