"""Pairwise judging: which of two outputs is better, with position bias cancelled.

LLM judges favour an answer for where it stands in the prompt (Zheng et al. 2023,
"Judging LLM-as-a-Judge with MT-Bench and Chatbot Arena", arXiv 2306.05685, §3.3).
:func:`judge_pairwise` therefore asks twice, once with ``a`` shown first and once
with ``b`` shown first, and combines the two verdicts as that paper does: an output
wins only when it is preferred in both orders; any disagreement is a tie. The
``value`` is the mean preference for ``a`` over the two orders (a win counts 1, a
tie 0.5, a loss 0), so a judge that flips with the order lands at 0.5.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from assay.scorers.base import Score
from assay.scorers.chat import ChatEndpoint, JudgeResponseError
from assay.scorers.templates import compile_template, prompt_value, render
from assay.scorers.text import find_json_values

if TYPE_CHECKING:
    import httpx

Preference = Literal["a", "b", "tie"]

PAIRWISE_VARIABLES = ("input", "reference", "rubric", "first", "second")
"""The variables a pairwise template may use."""

PAIRWISE_TEMPLATE = """\
You are comparing two outputs of AI systems for the same input.

Criteria:
{% if rubric %}{{ rubric }}{% else %}\
The better output answers the input more correctly, completely, relevantly and clearly.\
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
Output 1:
<output_1>
{{ first }}
</output_1>

Output 2:
<output_2>
{{ second }}
</output_2>

Do not let the order of the outputs or their length sway you. Reply with only a \
JSON object, the reason first:
{"reason": "<one or two sentences>", "winner": "1", "2" or "tie"}
"""
"""The default prompt of :func:`judge_pairwise`."""

_WINNERS: dict[str, Literal["first", "second", "tie"]] = {
    "1": "first",
    "first": "first",
    "output 1": "first",
    "2": "second",
    "second": "second",
    "output 2": "second",
    "tie": "tie",
    "draw": "tie",
    "equal": "tie",
}
_POINTS: dict[Preference, float] = {"a": 1.0, "tie": 0.5, "b": 0.0}
_QUOTED_REPLY_CHARS = 200


@dataclass(frozen=True)
class PairwiseResult:
    """The combined verdict of the two orders.

    Attributes:
        winner: ``a`` or ``b`` when preferred in both orders, else ``tie``.
        value: Mean preference for ``a`` over the two orders, in [0, 1].
        reason: How the two orders combined, with the judge's reasons.
        preferences: The preference of each order, in terms of ``a``/``b``:
            (``a`` shown first, ``b`` shown first).
        raw: The judge's raw replies, in the same order.
    """

    winner: Preference
    value: float
    reason: str
    preferences: tuple[Preference, Preference]
    raw: tuple[str, str]

    def to_score(self) -> Score:
        """The result as a :class:`Score` of ``a`` against ``b`` (pass: ``a`` won,
        fail: ``b`` won, no pass/fail on a tie), both raw replies in metadata."""
        passed = None if self.winner == "tie" else self.winner == "a"
        return Score(
            self.value,
            passed,
            self.reason,
            {"winner": self.winner, "preferences": list(self.preferences), "raw": list(self.raw)},
        )


def parse_winner(text: str) -> tuple[Literal["first", "second", "tie"], str]:
    """The winner (by position) and the reason from a pairwise judge's reply.

    Raises:
        JudgeResponseError: No JSON object with a recognisable ``winner``.
    """
    objects = [v for v in find_json_values(text) if isinstance(v, dict) and "winner" in v]
    if not objects:
        raise JudgeResponseError(
            f'pairwise judge reply has no JSON object with a "winner": '
            f"{text[:_QUOTED_REPLY_CHARS]!r}",
            raw=text,
        )
    data = objects[-1]
    raw_winner = data["winner"]
    key = str(raw_winner).strip().lower() if not isinstance(raw_winner, bool) else ""
    winner = _WINNERS.get(key)
    if winner is None:
        raise JudgeResponseError(
            f'pairwise judge winner {raw_winner!r} is not "1", "2" or "tie"', raw=text
        )
    reason = data.get("reason")
    return winner, reason if isinstance(reason, str) else ""


def _as_preference(winner: str, a_first: bool) -> Preference:
    if winner == "tie":
        return "tie"
    return "a" if (winner == "first") == a_first else "b"


async def judge_pairwise(
    a: Any,
    b: Any,
    *,
    input: Any,
    endpoint: ChatEndpoint,
    reference: Any | None = None,
    rubric: str | None = None,
    template: str | None = None,
    client: httpx.AsyncClient | None = None,
) -> PairwiseResult:
    """Ask a judge which of two outputs is better, in both orders.

    Args:
        a: The first output (say, the baseline's).
        b: The second output (say, the candidate's).
        input: The case input both answered.
        endpoint: The judge endpoint and call parameters.
        reference: The expected output, if any.
        rubric: The criteria; general quality when ``None``.
        template: A Jinja2 prompt with :data:`PAIRWISE_VARIABLES`;
            :data:`PAIRWISE_TEMPLATE` when ``None``.
        client: An httpx client to reuse for both calls.

    Returns:
        The combined verdict (see the module docstring).

    Raises:
        InvalidInput: The template does not parse or uses unknown variables.
        JudgeHTTPError: A call failed.
        JudgeResponseError: A reply holds no usable verdict.
    """
    compiled = compile_template(template or PAIRWISE_TEMPLATE, PAIRWISE_VARIABLES)
    shared = {
        "input": prompt_value(input),
        "reference": prompt_value(reference),
        "rubric": rubric,
    }
    text_a, text_b = prompt_value(a) or "", prompt_value(b) or ""
    prompts = (
        render(compiled, {**shared, "first": text_a, "second": text_b}),
        render(compiled, {**shared, "first": text_b, "second": text_a}),
    )
    replies = await asyncio.gather(*(endpoint.complete(p, client=client) for p in prompts))
    parsed = [parse_winner(reply.content) for reply in replies]
    preferences = (
        _as_preference(parsed[0][0], a_first=True),
        _as_preference(parsed[1][0], a_first=False),
    )
    winner: Preference = preferences[0] if preferences[0] == preferences[1] else "tie"
    value = (_POINTS[preferences[0]] + _POINTS[preferences[1]]) / 2
    if preferences[0] == preferences[1]:
        how = "a tie in both orders" if winner == "tie" else f"{winner} preferred in both orders"
    else:
        how = f"orders disagree (a first: {preferences[0]}, b first: {preferences[1]}): tie"
    reasons = "; ".join(
        f"{label}: {reason}"
        for label, (_, reason) in zip(("a first", "b first"), parsed, strict=True)
        if reason
    )
    return PairwiseResult(
        winner=winner,
        value=value,
        reason=f"{how}. {reasons}" if reasons else how,
        preferences=preferences,
        raw=(replies[0].content, replies[1].content),
    )
