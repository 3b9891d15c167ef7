"""The ``judge`` scorer: an LLM grades the output over any OpenAI-compatible endpoint.

The prompt is a Jinja2 template with the variables ``input``, ``output``,
``reference`` and ``rubric`` (``None`` when the case has none; non-text values as
JSON) and ``scale_min``/``scale_max``. The criteria are the case's own ``rubric``
when it has one, else the scorer's ``rubric`` argument, else the default template's
general criteria (correct, complete, relevant, clear).

The judge must answer a JSON object with a ``score`` on the scale (``[0, 1]`` by
default; ``scale=[1,5]`` for a 1-5 grade) and a ``reason``, and may add a
``confidence`` in [0, 1] (the default prompt asks for one): how sure it is, kept in
``metadata["confidence"]``, where routing rules read it (``confidence.NAME < 0.5``
sends the cases the judge was unsure of to people). It is the judge's own statement,
not a calibrated probability; a missing or out-of-range one is left out. The object may sit
anywhere in the reply (after reasoning, in a code fence), and the last object with
a ``score`` is the verdict. The score is mapped linearly onto [0, 1]. A reply
without a usable verdict raises :class:`~assay.scorers.chat.JudgeResponseError`:
an unreadable judgement is an error for that case, never a silent fail. The raw
reply is kept in ``metadata["raw"]``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import Field, SecretStr, field_validator

from assay.scorers.args import ScorerArgs, spec_of
from assay.scorers.base import Score, ScoreInput
from assay.scorers.chat import ChatEndpoint, JudgeResponseError
from assay.scorers.registry import register_scorer
from assay.scorers.templates import check_template, compile_template, prompt_value, render
from assay.scorers.text import find_json_values

if TYPE_CHECKING:
    import httpx

DEFAULT_BASE_URL = "https://api.openai.com/v1"
"""Where the judge is asked when no ``base_url`` is given: OpenAI itself."""

JUDGE_VARIABLES = ("input", "output", "reference", "rubric", "scale_min", "scale_max")
"""The variables a judge template may use."""

DEFAULT_TEMPLATE = """\
You are grading the output of an AI system.

Criteria:
{% if rubric %}{{ rubric }}{% else %}\
The output should answer the input correctly, completely, relevantly and clearly.\
{% endif %}

Input:
<input>
{{ input }}
</input>
{% if reference is not none %}
Reference answer (a good output agrees with it; the wording may differ):
<reference>
{{ reference }}
</reference>
{% endif %}
Output to grade:
<output>
{{ output }}
</output>

Grade the output against the criteria{% if reference is not none %} and the reference\
{% endif %}. Reply with only a JSON object, the reason first:
{"reason": "<one or two sentences>", "score": <a number from {{ scale_min }} (worst) \
to {{ scale_max }} (best)>, "confidence": <from 0 (a guess) to 1 (certain)>}
"""
"""The judge prompt used when the ``template`` argument is not given."""

# Characters of an unreadable reply quoted in the error.
_QUOTED_REPLY_CHARS = 200


@dataclass(frozen=True)
class Verdict:
    """A judge's parsed verdict.

    Attributes:
        score: The score as the judge gave it, on its scale.
        value: The score mapped onto [0, 1].
        reason: The judge's reason (``""`` if it gave none).
        data: The whole JSON object the verdict came from.
        confidence: How sure the judge said it was, in [0, 1]; None when it did not
            say, or said something that is not a number in [0, 1].
    """

    score: float
    value: float
    reason: str
    data: dict[str, Any]
    confidence: float | None = None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _fmt(number: float) -> str:
    return f"{number:g}"


def parse_verdict(text: str, scale: tuple[float, float] = (0.0, 1.0)) -> Verdict:
    """Read the verdict from a judge's reply.

    Args:
        text: The reply.
        scale: The lowest and highest score the judge was asked for.

    Returns:
        The last JSON object in the text with a ``score`` key, mapped onto [0, 1].

    Raises:
        JudgeResponseError: No such object, a score that is not a number, or one
            outside the scale.
    """
    low, high = scale
    candidates = [
        value for value in find_json_values(text) if isinstance(value, dict) and "score" in value
    ]
    quoted = text[:_QUOTED_REPLY_CHARS]
    if not candidates:
        raise JudgeResponseError(
            f'judge reply has no JSON object with a "score": {quoted!r}', raw=text
        )
    data = candidates[-1]
    score = _number(data["score"])
    if score is None:
        raise JudgeResponseError(
            f"judge score {data['score']!r} is not a number: {quoted!r}", raw=text
        )
    if not low <= score <= high:
        raise JudgeResponseError(
            f"judge score {_fmt(score)} is outside the scale {_fmt(low)}-{_fmt(high)}", raw=text
        )
    reason = data.get("reason")
    confidence = _number(data.get("confidence"))
    return Verdict(
        score=score,
        value=(score - low) / (high - low),
        reason=reason if isinstance(reason, str) else "",
        data=data,
        confidence=confidence if confidence is not None and 0 <= confidence <= 1 else None,
    )


class JudgeArgs(ScorerArgs):
    """Arguments of ``judge``."""

    model: str = Field(min_length=1, description="Judge model name.")
    base_url: str = Field(
        default=DEFAULT_BASE_URL,
        min_length=1,
        description="OpenAI-compatible API root, including `/v1`.",
    )
    api_key: SecretStr | None = Field(
        default=None,
        description="API key of the endpoint.",
    )
    template: str | None = Field(
        default=None,
        description="Jinja2 prompt template (variables: input, output, reference, rubric, "
        "scale_min, scale_max); a built-in grading prompt when unset.",
    )
    rubric: str | None = Field(
        default=None,
        description="Criteria for cases without a rubric of their own.",
    )
    scale: tuple[float, float] = Field(
        default=(0.0, 1.0),
        description="Lowest and highest score the judge gives, mapped onto [0, 1] "
        "(`[1,5]` for a 1-5 grade).",
    )
    threshold: float | None = Field(
        default=0.5,
        ge=0,
        le=1,
        description="Pass at or above this mapped score; no pass/fail when null.",
    )
    temperature: float = Field(
        default=0.0, ge=0, le=2, description="Sampling temperature of the judge."
    )
    max_tokens: int | None = Field(default=None, gt=0, description="Longest judge reply.")

    @field_validator("scale")
    @classmethod
    def _ordered(cls, scale: tuple[float, float]) -> tuple[float, float]:
        low, high = scale
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise ValueError(f"scale must be [low, high] with low < high, got {list(scale)}")
        return scale

    @field_validator("template")
    @classmethod
    def _parses(cls, template: str | None) -> str | None:
        if template is not None:
            check_template(template, JUDGE_VARIABLES)
        return template

    def endpoint(self) -> ChatEndpoint:
        """The endpoint these arguments describe."""
        return ChatEndpoint(
            model=self.model,
            base_url=self.base_url,
            api_key=self.api_key.get_secret_value() if self.api_key else None,
            temperature=self.temperature,
            max_tokens=self.max_tokens,
        )


_SECRET = ("api_key",)


@register_scorer("judge", args=JudgeArgs, secret=_SECRET)
class JudgeScorer:
    """An LLM grades the output against a rubric (any OpenAI-compatible endpoint)."""

    def __init__(self, args: JudgeArgs, *, client: httpx.AsyncClient | None = None) -> None:
        """Build the scorer.

        Args:
            args: Its arguments (``model`` is required).
            client: An httpx client to send every call through (connection
                pooling, custom transports in tests); a short-lived one per call
                otherwise. The caller closes it.
        """
        self.args = args
        self.spec = spec_of("judge", args, _SECRET)
        self._endpoint = args.endpoint()
        self._template = compile_template(args.template or DEFAULT_TEMPLATE, JUDGE_VARIABLES)
        self._client = client

    def prompt(self, case: ScoreInput) -> str:
        """The prompt this scorer sends for ``case``."""
        low, high = self.args.scale
        return render(
            self._template,
            {
                "input": prompt_value(case.input),
                "output": prompt_value(case.output) or "",
                "reference": prompt_value(case.reference),
                "rubric": case.rubric or self.args.rubric,
                "scale_min": _fmt(low),
                "scale_max": _fmt(high),
            },
        )

    async def score(self, case: ScoreInput) -> Score:
        """Ask the judge about ``case``.

        Raises:
            JudgeHTTPError: The endpoint failed (status and URL in the message).
            JudgeResponseError: The reply holds no usable verdict.
            ScorerError: The template failed on this case.
        """
        reply = await self._endpoint.complete(self.prompt(case), client=self._client)
        verdict = parse_verdict(reply.content, self.args.scale)
        threshold = self.args.threshold
        passed = None if threshold is None else verdict.value >= threshold
        metadata: dict[str, Any] = {
            "raw": reply.content,
            "score": verdict.score,
            "judge_model": reply.model or self.args.model,
        }
        if reply.usage is not None:
            metadata["usage"] = reply.usage
        if verdict.confidence is not None:
            metadata["confidence"] = verdict.confidence
        reason = verdict.reason or f"judge gave {_fmt(verdict.score)} with no reason"
        return Score(verdict.value, passed, reason, metadata)
