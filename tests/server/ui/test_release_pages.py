"""Release pages over HTTP: list, diff, and their errors."""

from __future__ import annotations

from fastapi.testclient import TestClient

from assay.projects import get_project
from assay.releases import FieldChange, register_release
from assay.server.ui.release_pages import change_row, display_value
from assay.store import Store

from .live import PROJECT, RELEASE_V1, RELEASE_V2


def register_both(store: Store) -> None:
    with store.write_session() as session:
        project = get_project(session, PROJECT)
        register_release(session, project.id, RELEASE_V1)
        register_release(session, project.id, RELEASE_V2)


def test_no_releases_explains_how_to_register_one(signed_client: TestClient) -> None:
    page = signed_client.get("/p/demo/releases")
    assert page.status_code == 200
    assert "No releases yet" in page.text
    assert "assay release register release.toml --project demo" in page.text


def test_release_list_and_diff(signed_client: TestClient, store: Store) -> None:
    register_both(store)
    listing = signed_client.get("/p/demo/releases")
    assert listing.status_code == 200
    assert listing.text.count('id="release-') == 2
    assert 'action="/p/demo/releases/diff"' in listing.text
    assert '/p/demo/traces?release=v1"' in listing.text
    diff = signed_client.get("/p/demo/releases/diff?a=v1&b=v2")
    assert diff.status_code == 200
    assert "generation.temperature" in diff.text
    assert "prompts.system" in diff.text
    assert '<span class="add">+Be brief and kind.</span>' in diff.text
    same = signed_client.get("/p/demo/releases/diff?a=v2&b=v2")
    assert 'id="no-changes"' in same.text


def test_diff_of_unknown_or_missing_release(signed_client: TestClient, store: Store) -> None:
    register_both(store)
    unknown = signed_client.get("/p/demo/releases/diff?a=v1&b=v7")
    assert unknown.status_code == 404
    assert "no release named &#39;v7&#39;" in unknown.text
    missing = signed_client.get("/p/demo/releases/diff?a=v1")
    assert missing.status_code == 400
    assert "release reference is empty" in missing.text


def test_change_rows() -> None:
    text = change_row(FieldChange("prompts.system", "changed", old="a\nb", new="a\nc"))
    assert text.text_diff[-2:] == ["-b", "+c"]
    short = change_row(FieldChange("prompts.user", "changed", old="hi", new="hello"))
    assert short.text_diff == []
    assert (short.old, short.new) == ("hi", "hello")
    added = change_row(FieldChange("tools[search]", "added", new={"name": "search"}))
    assert added.old == ""
    assert added.new == '{\n  "name": "search"\n}'
    assert display_value(None) == ""
    assert display_value(0.5) == "0.5"
