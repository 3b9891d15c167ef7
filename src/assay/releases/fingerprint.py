"""Canonical form and fingerprint of a manifest.

The fingerprint is the SHA-256 of the canonical JSON (see
:mod:`assay.releases.canonical`) of the manifest's behaviour: every section except
``name`` and ``schema_version``. Two names for the same behaviour therefore share a
fingerprint, which is how the registry spots a release registered twice.
"""

from __future__ import annotations

import hashlib
from typing import Any

from assay.releases.canonical import canonical_dumps, canonicalize
from assay.releases.manifest import ManifestLike, as_manifest

# Left out of the fingerprint: they identify or frame a manifest, not behaviour.
_NOT_BEHAVIOUR = ("name", "schema_version")


def canonical_manifest(manifest: ManifestLike) -> dict[str, Any]:
    """The whole manifest in canonical form, name and schema_version included.

    This is what the store keeps; see :mod:`assay.releases.canonical` for the rules.
    """
    dumped = as_manifest(manifest).model_dump(mode="python")
    result: dict[str, Any] = canonicalize(dumped)
    return result


def canonical_json(manifest: ManifestLike) -> str:
    """The canonical JSON text of the whole manifest (what the store keeps)."""
    return canonical_dumps(canonical_manifest(manifest))


def behaviour(manifest: ManifestLike) -> dict[str, Any]:
    """The part of the canonical manifest that the fingerprint covers.

    Everything but ``name`` and ``schema_version``.
    """
    data = canonical_manifest(manifest)
    return {k: v for k, v in data.items() if k not in _NOT_BEHAVIOUR}


def fingerprint(manifest: ManifestLike) -> str:
    """The SHA-256 (64 lowercase hex characters) of the canonical JSON of the behaviour.

    Stable across key order, file format, ``0.7`` vs ``0.70``, ``1`` vs ``1.0`` and
    empty optional sections; independent of the release name.
    """
    text = canonical_dumps(behaviour(manifest))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
