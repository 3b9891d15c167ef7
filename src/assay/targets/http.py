"""An HTTP endpoint as a target: the case input goes into a JSON request, the output
comes out of the JSON response.

The request body is a JSON template in which the string ``"$input"`` stands for the
case input (keeping its type) and ``"$input.KEY"`` for a field of a structured
input. The output is read at a dotted path of the response (``answer``,
``choices.0.message.content``); without one, the response's ``output`` field when
it has one, else the whole JSON, else the text.
"""

from __future__ import annotations

from typing import Any

import httpx

from assay.errors import InvalidInput
from assay.targets.base import JsonEndpoint, TargetError, TargetOutput, fingerprint_of

INPUT_MARKER = "$input"
DEFAULT_BODY: dict[str, Any] = {"input": INPUT_MARKER}


def fill(template: Any, value: Any) -> Any:
    """``template`` with every ``"$input"`` (or ``"$input.KEY.KEY"``) replaced.

    Raises:
        TargetError: a ``$input.KEY`` path is missing from the input.
    """
    if isinstance(template, str):
        if template == INPUT_MARKER:
            return value
        if template.startswith(INPUT_MARKER + "."):
            return _at(value, template[len(INPUT_MARKER) + 1 :], "input")
        return template
    if isinstance(template, list):
        return [fill(v, value) for v in template]
    if isinstance(template, dict):
        return {k: fill(v, value) for k, v in template.items()}
    return template


def _at(data: Any, path: str, what: str) -> Any:
    found = data
    for part in path.split("."):
        if isinstance(found, dict) and part in found:
            found = found[part]
        elif (
            isinstance(found, list)
            and part.lstrip("-").isdigit()
            and -len(found) <= int(part) < len(found)
        ):
            found = found[int(part)]
        else:
            raise TargetError(f"the {what} has nothing at {path!r} (stopped at {part!r})")
    return found


class HttpTarget:
    """A JSON-over-HTTP endpoint as a target.

    Args:
        url: The endpoint.
        method: HTTP method (default POST).
        body: The request template (default ``{"input": "$input"}``).
        output: Dotted path of the output in the response.
        headers: Extra request headers (their values are never stored).
    """

    kind = "http"

    def __init__(
        self,
        url: str,
        *,
        method: str = "POST",
        body: Any = None,
        output: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise InvalidInput(f"http target {url!r}: the URL must start with http:// or https://")
        self.url = url
        self.method = method.upper()
        self.body = DEFAULT_BODY if body is None else body
        self.output = output
        self.headers = dict(headers or {})
        self._endpoint = JsonEndpoint()
        self._fingerprint = fingerprint_of(self.describe())

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the URL, method, body template and output path."""
        return self._fingerprint

    def describe(self) -> dict[str, Any]:
        """The endpoint and mapping; header names only, as values often hold keys."""
        return {
            "kind": self.kind,
            "url": self.url,
            "method": self.method,
            "body": self.body,
            "output": self.output,
            "headers": sorted(self.headers),
        }

    async def __call__(self, input: Any) -> TargetOutput:
        """POST (or ``method``) the filled template and read the output.

        Raises:
            TargetError: a network error or timeout (retryable), an HTTP error
                (retryable for 408, 429, 5xx), or a response without the output.
        """
        response = await self._endpoint.send(
            self.method, self.url, fill(self.body, input), self.headers
        )
        return TargetOutput(output=self._read(response))

    def _read(self, response: httpx.Response) -> Any:
        try:
            data = response.json()
        except ValueError:
            if self.output:
                raise TargetError(
                    f"{self.url} answered {response.headers.get('content-type', 'no type')}, "
                    f"not JSON, so there is no {self.output!r} to read"
                ) from None
            return response.text
        if self.output:
            return _at(data, self.output, f"response of {self.url}")
        if isinstance(data, dict) and "output" in data:
            return data["output"]
        return data

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._endpoint.aclose()
