"""The built-in scorer reference in docs/concepts/scorers.md, made from the registry.

The page keeps the generated part between :data:`BEGIN` and :data:`END`;
:func:`update_page` rewrites it, and a test fails when the page is stale, so a
built-in scorer or argument cannot go undocumented.
"""

from __future__ import annotations

from assay.errors import InvalidInput
from assay.scorers.registry import ScorerInfo, list_scorers

BEGIN = "<!-- scorers:begin (generated from assay.scorers.list_scorers(); do not edit) -->"
END = "<!-- scorers:end -->"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _section(info: ScorerInfo) -> list[str]:
    lines = [f"### `{info.name}`", "", info.summary, ""]
    if not info.args:
        return [*lines, "No arguments.", ""]
    lines += ["| argument | type | default | meaning |", "|---|---|---|---|"]
    for arg in info.args:
        default = "required" if arg.required else f"`{arg.default}`"
        meaning = _cell(arg.description)
        if arg.secret:
            meaning += " A secret: never stored; pass it with `secrets=`."
        lines.append(f"| `{arg.name}` | {_cell(arg.type)} | {_cell(default)} | {meaning} |")
    return [*lines, ""]


def scorers_markdown() -> str:
    """The generated reference of every built-in scorer (without the markers)."""
    lines: list[str] = []
    for info in list_scorers():
        if info.source == "builtin":
            lines += _section(info)
    return "\n".join(lines).rstrip("\n") + "\n"


def update_page(text: str) -> str:
    """``text`` with the part between :data:`BEGIN` and :data:`END` regenerated.

    Raises:
        InvalidInput: The markers are missing or out of order.
    """
    start = text.find(BEGIN)
    end = text.find(END)
    if start < 0 or end < start:
        raise InvalidInput(f"the page needs the markers {BEGIN!r} and {END!r}, in that order")
    return text[: start + len(BEGIN)] + "\n\n" + scorers_markdown() + "\n" + text[end:]
