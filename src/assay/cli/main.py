"""The ``assay`` command: the root Typer app, error handling and exit codes.

Each command group lives in its own module and adds itself through a ``register``
function listed in :data:`COMMAND_GROUPS`; a new group (``demo``, ``dataset``) is
one module and one line there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from assay import __version__
from assay.cli import (
    agreement,
    compare,
    dataset,
    db,
    demo,
    feedback,
    finetune,
    online,
    output,
    project,
    queue,
    release,
    rule,
    run,
    runs,
    serve,
    traces,
    user,
    worker,
)
from assay.cli.context import MARKUP
from assay.errors import AssayError

EXIT_OK = 0
"""The command did what was asked."""
EXIT_FAILURE = 1
"""The command ran and the answer is no (a gate failed), or it was aborted."""
EXIT_USAGE = 2
"""Bad usage or data: an unknown option or project, an invalid file, an unusable store."""

EPILOG = (
    "Exit codes: 0 success; 1 failure (the command ran and the answer is no, e.g. a "
    "gate failed, or it was aborted); 2 usage or data error (a bad option, an unknown "
    "project, an invalid file, an unreachable store).\n\n"
    "Every command that touches the store takes --db URL (default: ASSAY_DATABASE_URL, "
    "else .assay/assay.db in the working directory) and works with or without a "
    "running server."
)


class AssayGroup(TyperGroup):
    """The root group: turns every :class:`~assay.errors.AssayError` into exit code 2.

    Sub-groups run inside the root's :meth:`invoke`, so this one place covers every
    command, and a user's mistake never shows a traceback.
    """

    # ``ctx`` is Typer's vendored click Context, which Typer does not export by name.
    def invoke(self, ctx: Any) -> Any:
        """Run the command, reporting assay errors as ``error: <message>`` on stderr."""
        try:
            return super().invoke(ctx)
        except AssayError as exc:
            output.error(str(exc))
            raise typer.Exit(EXIT_USAGE) from None


app = typer.Typer(
    name="assay",
    cls=AssayGroup,
    help=(
        "assay: every production failure of an AI feature becomes tomorrow's regression "
        "test. Ingest OpenTelemetry traces, register releases, and inspect what your "
        "app did."
    ),
    epilog=EPILOG,
    no_args_is_help=True,
    rich_markup_mode=MARKUP,
    add_completion=False,
    # Locals can hold API keys and passwords; a bug report must not leak them.
    pretty_exceptions_show_locals=False,
)

COMMAND_GROUPS: Sequence[Callable[[typer.Typer], None]] = (
    demo.register,
    serve.register,
    worker.register,
    project.register,
    user.register,
    release.register,
    traces.register,
    feedback.register,
    online.register,
    rule.register,
    queue.register,
    dataset.register,
    run.register,
    runs.register,
    compare.register,
    agreement.register,
    finetune.register,
    db.register,
)
"""Each command module's ``register(app)``, in the order ``--help`` lists them."""

for _register in COMMAND_GROUPS:
    _register(app)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"assay {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print the version of assay and exit.",
        ),
    ] = False,
) -> None:
    """Self-hosted platform that turns production AI failures into regression tests."""


def main() -> None:
    """Console-script entry point (``assay``)."""
    app(prog_name="assay")


if __name__ == "__main__":
    main()
