"""Jinja2 prompt templates of the judges: checked when a scorer is built.

Templates render in Jinja2's sandbox (a template is user input; it may read the
variables but not reach into Python), with undefined names an error rather than an
empty string, and without HTML escaping (a prompt is not a web page). A template
that does not parse, or names a variable the judge does not provide, is refused
when the scorer is built, not on the first case.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

from assay.errors import InvalidInput
from assay.scorers.base import ScorerError
from assay.scorers.text import as_text

if TYPE_CHECKING:
    import jinja2

_lock = threading.Lock()
_environment: jinja2.Environment | None = None


def _env() -> jinja2.Environment:
    global _environment
    with _lock:
        if _environment is None:
            import jinja2
            from jinja2.sandbox import SandboxedEnvironment

            _environment = SandboxedEnvironment(
                undefined=jinja2.StrictUndefined,
                autoescape=False,  # renders an LLM prompt, never HTML
                keep_trailing_newline=True,
            )
        return _environment


def check_template(source: str, variables: Collection[str]) -> None:
    """Check that ``source`` parses and uses only ``variables``.

    Raises:
        ValueError: It does not parse, or names another variable (for use in a
            pydantic validator, which adds the argument's name).
    """
    import jinja2
    from jinja2 import meta

    try:
        parsed = _env().parse(source)
    except jinja2.TemplateSyntaxError as exc:
        raise ValueError(f"template does not parse: line {exc.lineno}: {exc.message}") from None
    unknown = sorted(meta.find_undeclared_variables(parsed) - set(variables))
    if unknown:
        raise ValueError(
            f"template uses unknown variables {', '.join(unknown)}; "
            f"available: {', '.join(sorted(variables))}"
        )


def compile_template(source: str, variables: Collection[str]) -> jinja2.Template:
    """Compile a checked template.

    Raises:
        InvalidInput: See :func:`check_template`.
    """
    try:
        check_template(source, variables)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    return _env().from_string(source)


def prompt_value(value: Any) -> str | None:
    """A case field as template text: ``None`` stays ``None`` (so ``{% if %}`` works),
    anything else as :func:`~assay.scorers.text.as_text` gives it."""
    return None if value is None else as_text(value)


def render(template: jinja2.Template, variables: Mapping[str, Any]) -> str:
    """Render a judge prompt.

    Raises:
        ScorerError: The template failed on this case's values (an attribute it
            reads is missing, the sandbox refused an operation).
    """
    import jinja2

    try:
        return template.render(**variables)
    except jinja2.TemplateError as exc:
        raise ScorerError(f"judge template failed: {type(exc).__name__}: {exc}") from exc
