"""Traces over REST: query parameters for every filter, pages, detail, errors."""

from __future__ import annotations

from typing import Any, Literal

import pytest
from fastapi.testclient import TestClient

from assay.testing.otlp import IdFactory, genai_llm_span, make_span, trace_with_children

from .conftest import MS, T0, Project, send

ids = IdFactory("routes.test_traces")


def one(
    client: TestClient,
    project: Project,
    start_ns: int,
    *,
    question: str = "What is the capital of France?",
    status: Literal["ok", "error", "unset"] = "ok",
    attributes: dict[str, Any] | None = None,
    release: str | None = None,
    resource: dict[str, Any] | None = None,
) -> str:
    attrs = {"openinference.span.kind": "CHAIN", "input.value": question, "output.value": "ok"}
    attrs.update(attributes or {})
    span = make_span("ask", attributes=attrs, start_ns=start_ns, status=status, ids=ids)
    return send(client, project, [span], release=release, resource=resource)


def listed(client: TestClient, project: Project, **params: Any) -> list[str]:
    response = client.get("/api/v1/traces", params=params, headers=project.headers)
    assert response.status_code == 200, response.text
    return [item["trace_id"] for item in response.json()["items"]]


def test_list_shape(client: TestClient, alpha: Project) -> None:
    trace_id = send(
        client,
        alpha,
        trace_with_children(1, start_ns=T0, ids=ids),
        release="v1",
        resource={"locale": "en"},
    )
    response = client.get("/api/v1/traces", headers=alpha.headers)
    assert response.status_code == 200
    body = response.json()
    assert body["next_cursor"] is None
    (item,) = body["items"]
    assert item["trace_id"] == trace_id
    assert item["start_ns"] == T0
    assert item["start_time"] == "2025-11-20T00:53:20.000000Z"
    assert item["span_count"] == 2
    assert item["release"] == {"ref": "v1", "name": None, "fingerprint": None}
    assert item["slices"] == {"locale": "en"}
    assert item["input_preview"] == "What is the capital of France?"
    assert item["model"] == "gpt-4o-mini"


def test_every_filter_as_a_query_parameter(client: TestClient, alpha: Project) -> None:
    manifest = {"name": "v1", "model": {"id": "gpt-4o"}}
    fingerprint = client.post("/api/v1/releases", json=manifest, headers=alpha.headers).json()[
        "fingerprint"
    ]
    a = one(
        client,
        alpha,
        T0,
        question="Où est Paris_1?",
        attributes={"session.id": "s1", "user.id": "u1", "assay.slice.tier": 2},
        release="v1",
        resource={"locale": "fr"},
    )
    b = one(client, alpha, T0 + 10 * MS, status="error", release=fingerprint)
    c = send(
        client,
        alpha,
        [genai_llm_span(model="claude-3-5-haiku", start_ns=T0 + 20 * MS, ids=ids)],
        release="raw-ref",
    )
    client.post(
        "/api/v1/feedback",
        json={"trace_id": b, "name": "thumbs", "value": False},
        headers=alpha.headers,
    )

    assert listed(client, alpha) == [c, b, a]
    assert listed(client, alpha, start_from=str(T0 + 10 * MS)) == [c, b]
    assert listed(client, alpha, start_from="2025-11-20T00:53:20.010Z") == [c, b]
    assert listed(client, alpha, start_to="2025-11-20T00:53:20.010000+00:00") == [a]
    assert listed(client, alpha, release="v1") == [b, a]
    assert listed(client, alpha, release=fingerprint[:12]) == [b, a]
    assert listed(client, alpha, release="raw-ref") == [c]
    assert listed(client, alpha, model="claude-3-5-haiku") == [c]
    assert listed(client, alpha, status="error") == [b]
    assert listed(client, alpha, kind="llm") == [c]
    assert listed(client, alpha, slice=["locale:fr", "tier:2"]) == [a]
    assert listed(client, alpha, slice="locale:en") == []
    assert listed(client, alpha, q="paris_1") == [a]
    assert listed(client, alpha, q="PARIS%1") == []
    assert listed(client, alpha, session_id="s1") == [a]
    assert listed(client, alpha, user_id="u1") == [a]
    assert listed(client, alpha, has_feedback="true") == [b]
    assert listed(client, alpha, has_feedback="false") == [c, a]

    detail = client.get(f"/api/v1/traces/{a}", headers=alpha.headers).json()
    assert detail["release"] == {"ref": "v1", "name": "v1", "fingerprint": fingerprint}


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"start_from": "yesterday"}, 400, "start_from"),
        ({"start_to": "2025-13-40"}, 400, "start_to"),
        ({"slice": "locale"}, 400, "slice"),
        ({"slice": ":en"}, 400, "slice"),
        ({"kind": "banana"}, 400, "kind"),
        ({"cursor": "garbage"}, 400, "cursor"),
        ({"release": " "}, 400, "release"),
        ({"status": "failed"}, 422, "status"),
        ({"limit": 0}, 422, "limit"),
        ({"limit": 501}, 422, "limit"),
        ({"has_feedback": "maybe"}, 422, "has_feedback"),
    ],
)
def test_bad_parameters_name_the_field(
    client: TestClient, alpha: Project, params: dict[str, Any], status: int, field: str
) -> None:
    response = client.get("/api/v1/traces", params=params, headers=alpha.headers)
    assert response.status_code == status
    assert field in str(response.json()["detail"])


def test_pages_through_the_api(client: TestClient, alpha: Project) -> None:
    made = [one(client, alpha, T0 + i * MS) for i in range(7)]
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 3}
    while True:
        body = client.get("/api/v1/traces", params=params, headers=alpha.headers).json()
        seen += [item["trace_id"] for item in body["items"]]
        if body["next_cursor"] is None:
            break
        params["cursor"] = body["next_cursor"]
        one(client, alpha, T0 + 1000 * MS)  # newer traces do not disturb later pages
    assert seen == list(reversed(made))


def test_detail(client: TestClient, alpha: Project) -> None:
    spans = trace_with_children(2, start_ns=T0, ids=ids)
    trace_id = send(client, alpha, spans)
    client.post(
        "/api/v1/feedback",
        json={"trace_id": trace_id, "name": "rating", "value": 4, "comment": "good"},
        headers=alpha.headers,
    )
    response = client.get(f"/api/v1/traces/{trace_id.upper()}", headers=alpha.headers)
    assert response.status_code == 200
    body = response.json()
    assert body["trace_id"] == trace_id
    assert body["input"] == "What is the capital of France?"
    assert body["resource"]["service.name"] == "assay-test-app"
    (root,) = body["spans"]
    assert root["kind"] == "chain"
    assert root["parent_span_id"] is None
    assert [c["input"][0]["content"] for c in root["children"]] == ["question 0", "question 1"]
    child = root["children"][0]
    assert child["output"][0]["role"] == "assistant"
    assert child["children"] == []
    assert child["attributes"]["gen_ai.operation.name"] == "chat"
    assert [(f["name"], f["value"], f["comment"]) for f in body["feedback"]] == [
        ("rating", 4, "good")
    ]
    assert body["feedback_count"] == 1


def test_detail_errors(client: TestClient, alpha: Project) -> None:
    missing = client.get(f"/api/v1/traces/{'ab' * 16}", headers=alpha.headers)
    assert missing.status_code == 404
    malformed = client.get("/api/v1/traces/not-a-trace", headers=alpha.headers)
    assert malformed.status_code == 400
    assert "trace_id" in malformed.json()["detail"]
    assert client.get(f"/api/v1/traces/{'ab' * 16}").status_code == 401
    assert client.get("/api/v1/traces").status_code == 401
