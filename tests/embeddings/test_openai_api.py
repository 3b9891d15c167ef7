"""The OpenAI-compatible embedder against the fake OpenAI server."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import numpy as np
import pytest
from fastapi import Response

from assay.embeddings.openai_api import DEFAULT_BASE_URL, EMPTY_TEXT_STANDIN, OpenAIEmbedder
from assay.errors import AssayError, ConfigError
from assay.testing.background import serve_app, untraced_fastapi
from assay.testing.openai_replies import embedding_vector
from assay.testing.openai_server import OpenAIServer, serve_openai

MODEL = "text-embedding-3-small"


@pytest.fixture
def server() -> Iterator[OpenAIServer]:
    with serve_openai(embedding_dimensions=8) as fake:
        yield fake


def _embedder(server: OpenAIServer, **kwargs: object) -> OpenAIEmbedder:
    options: dict = {"base_url": server.base_url, "backoff_s": 0.0, **kwargs}
    return OpenAIEmbedder(MODEL, **options)


def test_vectors_come_back_in_order_as_the_server_sent_them(server: OpenAIServer):
    texts = ["first", "second", "third"]
    vectors = _embedder(server).embed(texts)
    expected = np.array([embedding_vector(MODEL, t, 8) for t in texts], dtype=np.float32)
    np.testing.assert_allclose(vectors, expected, atol=1e-6)
    assert vectors.dtype == np.float32
    assert server.requests[0] == {"model": MODEL, "input": texts, "encoding_format": "float"}


def test_texts_go_in_batches(server: OpenAIServer):
    texts = [f"text {i}" for i in range(7)]
    vectors = _embedder(server, batch_size=3).embed(texts)
    assert [len(body["input"]) for body in server.requests] == [3, 3, 1]
    single = _embedder(server).embed(texts[6:])
    np.testing.assert_array_equal(vectors[6:], single)


def test_dimensions_are_asked_for_and_learned(server: OpenAIServer):
    sized = _embedder(server, dimensions=5)
    assert sized.embed(["a"]).shape == (1, 5)
    assert server.requests[-1]["dimensions"] == 5
    assert sized.model_id == f"openai:{MODEL}@{server.base_url}?dimensions=5"

    unsized = _embedder(server)
    assert unsized.dim == 8  # one probe request
    assert unsized.embed([]).shape == (0, 8)
    assert len(server.requests) == 2
    assert unsized.model_id == f"openai:{MODEL}@{server.base_url}"


def test_empty_strings_are_sent_as_a_space(server: OpenAIServer):
    _embedder(server).embed(["", "x"])
    assert server.requests[0]["input"] == [EMPTY_TEXT_STANDIN, "x"]


def test_api_key_is_sent_as_a_bearer_token():
    with serve_openai(require_api_key="sk-right") as fake:
        assert _embedder(fake, api_key="sk-right").embed(["a"]).shape == (1, 16)
        with pytest.raises(ConfigError) as info:
            _embedder(fake, api_key="sk-wrong").embed(["a"])
    message = str(info.value)
    assert f"{fake.base_url}/embeddings" in message
    assert "HTTP 401" in message
    assert "sk-wrong" not in message


def test_server_errors_are_retried(server: OpenAIServer):
    server.fail_next(500, times=2, path="/v1/embeddings")
    vectors = _embedder(server, retries=2).embed(["a"])
    assert vectors.shape == (1, 8)
    assert len(server.requests) == 3


def test_persistent_failure_names_url_status_and_attempts(server: OpenAIServer):
    server.fail_next(503, times=5, message="overloaded", path="/v1/embeddings")
    with pytest.raises(AssayError) as info:
        _embedder(server, retries=1).embed(["a"])
    assert not isinstance(info.value, ConfigError)
    message = str(info.value)
    assert f"{server.base_url}/embeddings" in message
    assert "HTTP 503 after 2 attempts: overloaded" in message


def test_a_wrong_path_is_a_config_error(server: OpenAIServer):
    root = server.base_url.removesuffix("/v1")
    with pytest.raises(ConfigError, match=f"{root}/embeddings failed with HTTP 404:"):
        OpenAIEmbedder(MODEL, base_url=root, backoff_s=0.0).embed(["a"])


def test_a_client_error_is_not_retried(server: OpenAIServer):
    server.fail_next(400, times=5, message="input is too long", path="/v1/embeddings")
    with pytest.raises(ConfigError, match="failed with HTTP 400: input is too long"):
        _embedder(server, retries=3).embed(["a"])
    assert len(server.requests) == 1


def test_a_slow_server_times_out(server: OpenAIServer):
    server.fail_next(200, delay_s=0.5, path="/v1/embeddings")
    with pytest.raises(AssayError, match=r"timed out after 0\.1 s") as info:
        _embedder(server, timeout_s=0.1, retries=0).embed(["a"])
    assert f"{server.base_url}/embeddings" in str(info.value)


def test_an_unreachable_server_is_a_config_error_naming_it():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    with pytest.raises(ConfigError, match=f"cannot reach the embeddings endpoint {url}/embeddings"):
        OpenAIEmbedder(MODEL, base_url=url, retries=0).embed(["a"])


MALFORMED = [
    (200, '{"data": [{"index": 0, "embedding": [1, 0]}]}', r"has shape \(1, 2\); expected 2"),
    (200, '{"error": "nope"}', "is not an OpenAI embeddings list"),
    (200, "<html>proxy error</html>", "is not an OpenAI embeddings list"),
    (
        200,
        '{"data": [{"index": 0, "embedding": [1, 0]}, {"index": 1, "embedding": [1]}]}',
        "is not an OpenAI embeddings list",
    ),
    (307, "", "failed with HTTP 307"),
]


def test_a_malformed_answer_is_an_error_naming_the_url():
    answer: list[tuple[int, str]] = []
    app = untraced_fastapi()

    @app.post("/v1/embeddings")
    async def embeddings() -> Response:
        status, body = answer[-1]
        return Response(body, status_code=status, media_type="application/json")

    with serve_app(app) as broken:
        url = f"{broken.base_url}/v1"
        for status, body, match in MALFORMED:
            answer.append((status, body))
            with pytest.raises(AssayError, match=match) as info:
                OpenAIEmbedder(MODEL, base_url=url).embed(["a", "b"])
            assert f"{url}/embeddings" in str(info.value)
            # A redirect means a wrong URL: the user's to fix, not the server's.
            assert isinstance(info.value, ConfigError) == (status == 307)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"base_url": "localhost:8000/v1"}, "http:// or https://"),
        ({"dimensions": 0}, "dimensions"),
        ({"batch_size": 0}, "batch_size"),
        ({"timeout_s": 0}, "timeout"),
    ],
)
def test_bad_settings_are_config_errors(kwargs: dict, match: str):
    with pytest.raises(ConfigError, match=match):
        OpenAIEmbedder(MODEL, **kwargs)


def test_defaults_point_at_openai():
    embedder = OpenAIEmbedder(MODEL)
    assert embedder.url == f"{DEFAULT_BASE_URL}/embeddings"
    assert embedder.model_id == f"openai:{MODEL}@https://api.openai.com/v1"
