"""A target's release manifest, and runs checked against the release they claim."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from assay.errors import InvalidInput
from assay.releases import ReleaseView, diff_manifests, fingerprint, parse_manifest
from assay.targets import HttpTarget, OpenAIChatTarget, check_release_target, release_manifest


def chat(**changes: Any) -> OpenAIChatTarget:
    options: dict[str, Any] = {
        "base_url": "http://127.0.0.1:9/v1",
        "model": "gpt-4o-mini",
        "prompt": "Answer briefly: {{ input }}",
        "system": "You are a support agent.",
        "params": {"temperature": 0, "max_tokens": 200},
        "api_key": "sk-secret",
    }
    return OpenAIChatTarget(**(options | changes))


def view(manifest: dict[str, Any]) -> ReleaseView:
    return ReleaseView(1, manifest["name"], "0" * 64, manifest, datetime.now(UTC))


def test_an_openai_target_fills_model_generation_and_prompts() -> None:
    target = chat()
    manifest = release_manifest(target, "bot-v1")
    assert manifest == {
        "name": "bot-v1",
        "model": {"id": "gpt-4o-mini"},
        "generation": {"temperature": 0, "max_tokens": 200},
        "prompts": {"system": "You are a support agent.", "user": "Answer briefly: {{ input }}"},
        "extra": {
            "target": {
                "kind": "openai",
                "base_url": "http://127.0.0.1:9/v1",
                "fingerprint": target.fingerprint,
            }
        },
    }
    assert "sk-secret" not in repr(manifest)
    parse_manifest(manifest, source="test")


def test_a_prompt_change_is_a_new_release_and_the_diff_names_it() -> None:
    before = parse_manifest(release_manifest(chat(), "v1"), source="v1")
    after = parse_manifest(
        release_manifest(chat(prompt="Answer politely: {{ input }}"), "v2"), source="v2"
    )
    assert fingerprint(before) != fingerprint(after)
    paths = {change.path for change in diff_manifests(before, after)}
    assert "prompts.user" in paths
    assert "extra.target.fingerprint" in paths


def test_any_target_records_its_description_and_fingerprint() -> None:
    target = HttpTarget(url="http://127.0.0.1:9/answer", output="answer")
    manifest = release_manifest(target, "http-v1")
    assert manifest["extra"]["target"] == {**target.describe(), "fingerprint": target.fingerprint}
    assert set(manifest) == {"name", "extra"}


def test_a_run_of_another_target_is_refused_and_file_releases_are_not_checked() -> None:
    registered = view(release_manifest(chat(), "v1"))
    check_release_target(registered, chat())
    with pytest.raises(InvalidInput, match="release 'v1' was registered from a target"):
        check_release_target(registered, chat(model="gpt-4o"))
    check_release_target(view({"name": "file", "model": {"id": "x"}}), chat())
