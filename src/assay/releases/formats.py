"""Manifest files: JSON, TOML and YAML read into one validated :class:`Manifest`.

The same manifest written in any of the three formats gives the same fingerprint:
the files are read strictly (:mod:`assay.documents`), so duplicate keys and
``NaN`` are errors and YAML 1.2 scalars keep ``yes`` and dates as text.
"""

from __future__ import annotations

import os
from typing import TypeAlias

from assay.documents import DocumentFormat, parse_document, read_document
from assay.releases.manifest import Manifest, parse_manifest

ManifestFormat: TypeAlias = DocumentFormat


def parse_manifest_text(
    text: str, fmt: ManifestFormat, *, source: str = "release manifest"
) -> Manifest:
    """Parse manifest text in JSON, TOML or YAML.

    Args:
        text: The document.
        fmt: Its format.
        source: Where it came from, used to prefix error messages.

    Returns:
        The validated manifest.

    Raises:
        InvalidInput: The text does not parse, or is not a valid manifest.
    """
    return parse_manifest(parse_document(text, fmt, source=source), source=source)


def load_manifest(path: str | os.PathLike[str]) -> Manifest:
    """Read a manifest file: ``.json``, ``.toml``, or ``.yaml``/``.yml``.

    Args:
        path: The file.

    Returns:
        The validated manifest.

    Raises:
        ConfigError: The file cannot be read.
        InvalidInput: The extension is not supported, or the content is not UTF-8,
            does not parse, or is not a valid manifest. The message names the file
            and the field path.
    """
    return parse_manifest(read_document(path, "release manifest"), source=str(path))
