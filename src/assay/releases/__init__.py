"""Releases: the behaviour version of an app, as a canonical manifest and its fingerprint.

A manifest (model, generation parameters, prompts, tools, retrieval, adapter,
serving, code) is read from JSON, TOML or YAML, validated, and hashed into a
fingerprint that ignores the release name. The registry stores releases immutably
per project; the diff says what changed between two of them.
"""

from assay.releases.canonical import canonical_dumps, canonicalize
from assay.releases.diff import ChangeKind, FieldChange, diff_manifests, unified_text_diff
from assay.releases.fingerprint import behaviour, canonical_json, canonical_manifest, fingerprint
from assay.releases.formats import ManifestFormat, load_manifest, parse_manifest_text
from assay.releases.manifest import (
    SCHEMA_VERSION,
    AdapterSpec,
    CodeSpec,
    GenerationSpec,
    Manifest,
    ManifestLike,
    ModelSpec,
    RetrievalSpec,
    ServingSpec,
    as_manifest,
    parse_manifest,
    tool_name,
    upgrade_manifest_data,
)
from assay.releases.registry import (
    MIN_PREFIX_LENGTH,
    RegisteredRelease,
    ReleaseView,
    get_release,
    list_releases,
    register_release,
)

__all__ = [
    "MIN_PREFIX_LENGTH",
    "SCHEMA_VERSION",
    "AdapterSpec",
    "ChangeKind",
    "CodeSpec",
    "FieldChange",
    "GenerationSpec",
    "Manifest",
    "ManifestFormat",
    "ManifestLike",
    "ModelSpec",
    "RegisteredRelease",
    "ReleaseView",
    "RetrievalSpec",
    "ServingSpec",
    "as_manifest",
    "behaviour",
    "canonical_dumps",
    "canonical_json",
    "canonical_manifest",
    "canonicalize",
    "diff_manifests",
    "fingerprint",
    "get_release",
    "list_releases",
    "load_manifest",
    "parse_manifest",
    "parse_manifest_text",
    "register_release",
    "tool_name",
    "unified_text_diff",
    "upgrade_manifest_data",
]
