"""An OpenAI-compatible chat model with a prompt template as a target.

The prompt is a Jinja template rendered with ``input`` (the case input) and, when
the input is an object, each of its keys; it becomes the user message, after an
optional system template. A case whose input is already a list of chat messages is
sent as it is when no prompt is given. Works with any server that speaks
``POST /chat/completions`` (OpenAI, vLLM, Ollama, LiteLLM, llama.cpp, ...).
"""

from __future__ import annotations

from typing import Any

import jinja2

from assay.errors import InvalidInput
from assay.ingest.pricing import PriceTable
from assay.targets.base import JsonEndpoint, TargetError, TargetOutput, fingerprint_of

# Prompts are plain text sent to a model, not HTML: escaping would corrupt them.
_ENV = jinja2.Environment(
    undefined=jinja2.StrictUndefined,
    autoescape=False,  # noqa: S701
    keep_trailing_newline=True,
)


def compile_template(text: str, what: str) -> jinja2.Template:
    """Compile a prompt template.

    Raises:
        InvalidInput: a Jinja syntax error, with its line.
    """
    try:
        return _ENV.from_string(text)
    except jinja2.TemplateSyntaxError as exc:
        raise InvalidInput(f"{what} template, line {exc.lineno}: {exc.message}") from exc


class OpenAIChatTarget:
    """A chat completion endpoint, model, prompt template and parameters.

    Args:
        base_url: e.g. ``https://api.openai.com/v1`` or ``http://localhost:8000/v1``.
        model: The model name the server knows.
        prompt: Jinja template of the user message (default: the input as text).
        system: Jinja template of a system message, if any.
        params: Generation parameters sent as they are (``temperature``,
            ``max_tokens``, ``seed``, ...).
        api_key: Sent as ``Authorization: Bearer``; never stored or fingerprinted.
        prices: Price table for the cost (the shipped one by default).
    """

    kind = "openai"

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        prompt: str | None = None,
        system: str | None = None,
        params: dict[str, Any] | None = None,
        api_key: str = "",
        prices: PriceTable | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise InvalidInput(
                f"openai target: base_url {base_url!r} must start with http:// or https://"
            )
        if not model:
            raise InvalidInput("openai target: model is empty")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.prompt = prompt
        self.system = system
        self.params = dict(params or {})
        reserved = {"model", "messages", "stream"} & set(self.params)
        if reserved:
            raise InvalidInput(f"openai target: params may not set {', '.join(sorted(reserved))}")
        self._prompt = compile_template(prompt, "prompt") if prompt is not None else None
        self._system = compile_template(system, "system") if system is not None else None
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._prices = prices or PriceTable()
        self._endpoint = JsonEndpoint()
        self._fingerprint = fingerprint_of(self.describe())

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the base URL, model, templates and parameters."""
        return self._fingerprint

    def describe(self) -> dict[str, Any]:
        """The endpoint, model, templates and parameters (no key)."""
        return {
            "kind": self.kind,
            "base_url": self.base_url,
            "model": self.model,
            "prompt": self.prompt,
            "system": self.system,
            "params": self.params,
        }

    def messages(self, input: Any) -> list[dict[str, Any]]:
        """The chat messages sent for ``input``.

        Raises:
            TargetError: the template uses a variable the input does not have.
        """
        variables: dict[str, Any] = {"input": input}
        if isinstance(input, dict):
            variables = {**input, "input": input}
        try:
            system = self._system.render(variables) if self._system is not None else None
            if self._prompt is not None:
                out = [{"role": "user", "content": self._prompt.render(variables)}]
            elif isinstance(input, list) and all(isinstance(m, dict) for m in input):
                out = list(input)
            else:
                out = [{"role": "user", "content": input if isinstance(input, str) else str(input)}]
        except jinja2.UndefinedError as exc:
            raise TargetError(f"prompt template: {exc.message}") from exc
        if system is not None:
            out = [{"role": "system", "content": system}, *out]
        return out

    async def __call__(self, input: Any) -> TargetOutput:
        """Ask the model; the output is the first choice's text (or its tool calls).

        Raises:
            TargetError: a network error or timeout (retryable), an HTTP error
                (retryable for 408, 429, 5xx), or a response without a choice.
        """
        url = f"{self.base_url}/chat/completions"
        body = {"model": self.model, "messages": self.messages(input), **self.params}
        response = await self._endpoint.send("POST", url, body, self._headers)
        try:
            data = response.json()
            message = data["choices"][0]["message"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise TargetError(f"POST {url}: the answer has no choices[0].message") from None
        output = message.get("content")
        if output is None and message.get("tool_calls"):
            output = message["tool_calls"]
        usage = data.get("usage") or {}
        prompt_tokens = usage.get("prompt_tokens")
        completion_tokens = usage.get("completion_tokens")
        return TargetOutput(
            output=output,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost=self._prices.cost(
                data.get("model") or self.model, prompt_tokens, completion_tokens
            ),
        )

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._endpoint.aclose()
