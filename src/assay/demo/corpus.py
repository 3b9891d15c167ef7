"""Real conversation text for the demo, from the ``chatterbot-corpus`` package.

The corpus ships YAML files of question/answer exchanges in many languages; the
demo uses them as the user questions and the bot's answers, so what you browse
reads like traffic rather than lorem ipsum.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import yaml

# Languages the demo draws from, with the locale slice each gets.
LOCALES = {"english": "en", "german": "de", "spanish": "es", "french": "fr", "italian": "it"}


@dataclass(frozen=True)
class Exchange:
    """One question and the answer the corpus gives for it."""

    locale: str
    topic: str
    question: str
    answer: str


def load_exchanges() -> list[Exchange]:
    """Every question/answer pair of the demo's languages, in a stable order."""
    root = resources.files("chatterbot_corpus").joinpath("data")
    out: list[Exchange] = []
    for language, locale in LOCALES.items():
        folder = root.joinpath(language)
        if not folder.is_dir():
            continue
        for entry in sorted(folder.iterdir(), key=lambda e: e.name):
            if not entry.name.endswith((".yml", ".yaml")):
                continue
            data = yaml.safe_load(entry.read_text(encoding="utf-8")) or {}
            topic = entry.name.rsplit(".", 1)[0]
            for convo in data.get("conversations") or []:
                if not isinstance(convo, list) or len(convo) < 2:
                    continue
                question, answer = convo[0], convo[1]
                if isinstance(question, str) and isinstance(answer, str):
                    out.append(Exchange(locale, topic, question.strip(), answer.strip()))
    return out
