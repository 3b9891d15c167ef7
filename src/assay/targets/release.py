"""From a target to the release manifest it measures, and back.

A target's fingerprint covers what decides its output. Its release manifest puts
that behaviour where a release keeps it (an OpenAI-compatible target's model,
parameters and prompt templates go in ``model``, ``generation`` and ``prompts``)
and always records the target and its fingerprint under ``extra.target``. So a
changed prompt or model makes a new release fingerprint, ``assay release diff``
shows the change field by field, and a run can be checked against the release it
claims to measure (:func:`check_release_target`).
"""

from __future__ import annotations

from typing import Any

from assay.errors import InvalidInput
from assay.releases import ReleaseView
from assay.targets.base import Target


def release_manifest(target: Target, name: str) -> dict[str, Any]:
    """The release manifest of ``target``, named ``name`` (plain data, not yet checked).

    Args:
        target: A loaded target.
        name: The release name.

    Returns:
        A manifest for :func:`assay.releases.register_release`: the target's
        description and fingerprint under ``extra.target``, and for an
        OpenAI-compatible target its model, parameters and prompt templates.
    """
    described = target.describe()
    manifest: dict[str, Any] = {"name": name}
    if described.get("kind") == "openai":
        manifest["model"] = {"id": described["model"]}
        if described.get("params"):
            manifest["generation"] = dict(described["params"])
        prompts = {
            role: described[key]
            for role, key in (("system", "system"), ("user", "prompt"))
            if described.get(key) is not None
        }
        if prompts:
            manifest["prompts"] = prompts
        # The model, parameters and templates are in their sections already.
        kept = ("prompt", "system", "model", "params")
        described = {k: v for k, v in described.items() if k not in kept}
    manifest["extra"] = {"target": {**described, "fingerprint": target.fingerprint}}
    return manifest


def check_release_target(release: ReleaseView, target: Target) -> None:
    """Refuse to link a run to a release that was registered from another target.

    A release registered from a target records that target's fingerprint; a run of
    a different target (an edited prompt, other code) would otherwise be filed
    under behaviour it does not have. Releases registered from a manifest file
    without ``extra.target.fingerprint`` are not checked.

    Raises:
        InvalidInput: The release records another target fingerprint.
    """
    extra = release.manifest.get("extra") or {}
    recorded = extra.get("target", {}).get("fingerprint") if isinstance(extra, dict) else None
    if isinstance(recorded, str) and recorded != target.fingerprint:
        raise InvalidInput(
            f"release {release.name!r} was registered from a target with fingerprint "
            f"{recorded[:12]}, but this target's is {target.fingerprint[:12]}: its code, "
            "prompt, model or parameters changed. Register the new behaviour as a new "
            "release (assay release register --target ...) or run without --release"
        )
