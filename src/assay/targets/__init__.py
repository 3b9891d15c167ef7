"""Targets: what an experiment runs over a dataset's cases.

A Python callable (``module:function``), a JSON-over-HTTP endpoint, or an
OpenAI-compatible chat model with a prompt template. Each has a fingerprint of its
behaviour, which keys the result cache, is recorded with every run, and goes into
the release manifest registered from the target (:func:`release_manifest`).
"""

from assay.targets.base import Target, TargetError, TargetOutput, fingerprint_of
from assay.targets.http import HttpTarget
from assay.targets.openai_chat import OpenAIChatTarget
from assay.targets.python import PythonTarget, load_callable
from assay.targets.release import check_release_target, release_manifest
from assay.targets.spec import from_config, load_target

__all__ = [
    "HttpTarget",
    "OpenAIChatTarget",
    "PythonTarget",
    "Target",
    "TargetError",
    "TargetOutput",
    "check_release_target",
    "fingerprint_of",
    "from_config",
    "load_callable",
    "load_target",
    "release_manifest",
]
