"""Text helpers the scorers share: outputs as text, normalisation, JSON inside prose.

Normalisation (the ``normalize`` option of ``exact`` and ``contains``) is, in order:

1. Unicode NFKC, so full-width ``Ｐａｒｉｓ`` and ligatures compare equal to their
   plain forms;
2. case folding (``Straße`` equals ``STRASSE``);
3. whitespace runs collapsed to one space, and the ends stripped;
4. punctuation around the text stripped: sentence marks (``.``, ``!``, ``?``, ``,``,
   ``;``, ``:``, CJK ``。``), quotes and brackets, so ``"Paris."`` equals ``paris``.
   Dashes and signs stay (``-5`` is not ``5``), as do ``%``, ``#``, ``&``, ``*``,
   ``@`` and slashes (``50%`` is not ``50``); punctuation inside the text stays
   (``3.14``, ``U.S.A`` keep their dots).

Articles are not removed (SQuAD's normaliser does, but only for English).
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

# Unicode punctuation categories stripped at the ends: other (Po: . ! ? , ; : 。),
# open/close (Ps/Pe: brackets) and initial/final quotes (Pi/Pf). Dashes (Pd) and
# connectors (Pc: _) are kept, as are the Po symbols that change meaning below.
_STRIPPED_CATEGORIES = frozenset({"Po", "Ps", "Pe", "Pi", "Pf"})
_KEPT_SYMBOLS = frozenset("%‰‱#&*@/\\§¶†‡")
_WHITESPACE = re.compile(r"\s+")


def as_text(value: Any) -> str:
    """An output or reference as text: strings as they are, ``None`` as ``""``,
    anything else as JSON with sorted keys (so equal objects give equal text)."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        return str(value)


def _strippable(char: str) -> bool:
    return unicodedata.category(char) in _STRIPPED_CATEGORIES and char not in _KEPT_SYMBOLS


def normalize_text(text: str) -> str:
    """Normalise ``text`` for lenient comparison (the steps in the module docstring)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _WHITESPACE.sub(" ", text).strip()
    start, end = 0, len(text)
    while start < end and _strippable(text[start]):
        start += 1
    while end > start and _strippable(text[end - 1]):
        end -= 1
    return text[start:end].strip()


def _reject_constant(name: str) -> Any:
    # NaN and Infinity are not JSON (Python's decoder would accept them).
    raise ValueError(f"{name} is not JSON")


def find_json_values(text: str) -> list[Any]:
    """Every JSON object or array that starts somewhere in ``text``, in order.

    Prose and Markdown code fences around the JSON are ignored; a value nested in
    an earlier one is not listed again.
    """
    decoder = json.JSONDecoder(parse_constant=_reject_constant)
    found: list[Any] = []
    index = 0
    while True:
        starts = [pos for pos in (text.find("{", index), text.find("[", index)) if pos >= 0]
        if not starts:
            return found
        start = min(starts)
        try:
            value, end = decoder.raw_decode(text, start)
        except ValueError:
            index = start + 1
            continue
        found.append(value)
        index = end
