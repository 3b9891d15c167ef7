"""The demo bot's two releases as experiment targets (``assay.demo.bot:answer_v1``).

Both answer from the chatterbot corpus, as the demo traffic did. Release v2 answers
Italian questions wrongly about 40% of the time (the same locale its production
traffic fails in), which is the regression the demo's gate catches.
"""

from __future__ import annotations

import hashlib
from functools import cache

from assay.demo.corpus import load_exchanges

FALLBACK = "Sorry, I do not know that yet."
# Share of Italian questions v2 gets wrong: with the ~40 Italian cases of the default
# demo, a drop that stays significant after the Holm correction over five locales.
REGRESSED_LOCALE = "it"
ERROR_RATE = 0.4


@cache
def answers() -> dict[str, tuple[str, str]]:
    """Question to (answer, locale), the first answer the corpus gives."""
    out: dict[str, tuple[str, str]] = {}
    for ex in load_exchanges():
        out.setdefault(ex.question, (ex.answer, ex.locale))
    return out


def answer_v1(question: str) -> str:
    """support-bot-v1: the knowledge base's answer."""
    return answers().get(question, (FALLBACK, ""))[0]


def answer_v2(question: str) -> str:
    """support-bot-v2: the same, but wrong on some Italian questions."""
    answer, locale = answers().get(question, (FALLBACK, ""))
    if locale == REGRESSED_LOCALE and _unit(question) < ERROR_RATE:
        return "Mi dispiace, non lo so."
    return answer


def _unit(text: str) -> float:
    """A stable number in [0, 1) from the text, so the demo fails the same cases."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") / 2**64
