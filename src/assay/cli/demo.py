"""``assay demo``: a support bot's traffic, two releases and a served UI, offline."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from assay.cli.context import DbOption, settings_of


def demo(
    ctx: typer.Context,
    port: Annotated[
        int,
        typer.Option(
            min=0,
            max=65535,
            help="Port to serve on; another free port is used if it is taken (0: any).",
        ),
    ] = 6500,
    db: DbOption = None,
    traces: Annotated[
        int, typer.Option(min=10, max=100_000, help="How many support requests to send.")
    ] = 240,
    no_serve: Annotated[
        bool,
        typer.Option(
            "--no-serve", help="Stop after sending the traffic and printing (scripts, tests)."
        ),
    ] = False,
) -> None:
    """Set up a demo project, send it realistic traffic and serve the web UI.

    Creates the project `support-bot` in the store (the embedded SQLite file
    `.assay/assay.db` unless --db says otherwise), registers two releases, creates
    the account `demo` with a fresh password, starts the server on 127.0.0.1, and
    sends support-bot traces through the stock OpenTelemetry SDK exporter: questions
    and answers from the chatterbot-corpus package in five languages, with
    retrieval, model and tool spans, some failures and user feedback. Then it builds
    the dataset `support-golden` from the traffic, runs both releases' bots over it,
    and gates v2 against v1: the gate fails, because v2 answers Italian questions
    worse. Then the review loop: routing rules send thumbs-down, failed and a 5%
    calibration sample of traces to the queue `triage`; three simulated annotators
    (ana, ben, chiara) label every item with realistic disagreement; the demo account
    adjudicates the disputes; resolved items are promoted to the dataset
    `support-regressions`, each case linked to its trace. Running it again adds
    traffic (and dataset versions) and resets the demo passwords. Works offline.
    """
    # Imported here: the demo pulls in the server and the OTel SDK (~1 s).
    from assay.demo.run import run_demo, wait_forever

    overrides: dict[str, object] = {"host": "127.0.0.1", "port": port}
    if db is not None:
        overrides["database_url"] = db
    settings = settings_of(ctx).model_copy(update=overrides)
    console = Console()
    with console.status("Setting up the demo and sending traffic..."):
        result = run_demo(settings, traces=traces, serve=not no_serve)
    failed = sum(t.failed for t in result.traces)
    ev = result.evaluation
    rv = result.review
    p = result.project
    releases = sorted({t.release for t in result.traces})
    # With --no-serve the demo's server is gone: point at where `assay serve` will be.
    url = result.url if result.server is not None else f"http://127.0.0.1:{port or 6500}"
    lines = [
        f"[bold]Sent[/] {len(result.traces)} traces ({failed} failed) across releases "
        f"{', '.join(releases)}, and {result.feedback} feedback items.",
        "",
        f"[bold]Web UI[/]      {url}",
        f"[bold]Sign in[/]     user [cyan]{result.username}[/]  password "
        f"[cyan]{result.password}[/]",
        f"[bold]Store[/]       {result.database_url}",
        f"[bold]API key[/]     {result.api_key}",
        "",
        f"[bold]Evaluated[/]   dataset {ev.dataset} ({ev.cases} cases from the traffic); "
        f"runs {ev.baseline} and {ev.candidate}",
        "[bold]Gate[/]        v2 against v1: "
        + ("[green]passed[/]" if ev.gate.passed else "[red]failed[/]"),
        *[f"              [red]✗[/] {r.title}: {r.reason}" for r in ev.gate.failed],
        f"[bold]Reviewed[/]    {rv.items} traces in queue triage, {rv.annotations} labels by "
        f"{', '.join(rv.annotators)} ({rv.disputed} disputed, {rv.adjudicated} adjudicated); "
        + (f"alpha {rv.alpha:.2f} on the verdict" if rv.alpha is not None else "no alpha yet"),
        f"[bold]Promoted[/]    {rv.promoted} new cases to support-regressions"
        + (f" (v{rv.dataset_version})" if rv.dataset_version else ""),
        f"[bold]Annotators[/]  {', '.join(rv.annotators)} sign in with the same password"
        + (
            f"; {rv.open_items} items wait for a third label: yours (Queues > Start labelling)"
            if rv.open_items
            else ""
        ),
        "",
        "[bold]Next steps[/]",
        f"  The comparison:    {url}/p/{p}/compare?baseline={ev.baseline}&candidate={ev.candidate}",
        f"  The dataset:       {url}/p/{p}/datasets/{ev.dataset.split('@')[0]}",
        f"  Browse failures:   {url}/p/{p}/traces?status=error",
        f"  The review queue:  {url}/p/{p}/queues/triage",
        f"  Agreement:         {url}/p/{p}/queues/triage/agreement",
        f"  Regression cases:  {url}/p/{p}/datasets/support-regressions",
        f"  From the CLI:      assay traces ls --project {p} --status error --slice locale=it",
        f"  Gate in CI:        assay gate --policy {result.policy_file} --baseline "
        f"{ev.baseline} --candidate {ev.candidate} -p {p}",
        f"  Compare releases:  assay release diff support-bot-v1 support-bot-v2 --project {p}",
        f"  REST API:          curl -H 'Authorization: Bearer {result.api_key}' "
        f"{url}/api/v1/traces?limit=5",
        "  Your own app:      OTEL_EXPORTER_OTLP_ENDPOINT="
        f"{url} OTEL_EXPORTER_OTLP_HEADERS='Authorization=Bearer {result.api_key}'",
    ]
    if result.server is not None:
        lines += ["", "The server keeps running; press Ctrl-C to stop it."]
    else:
        serve = "assay serve" + (f" --port {port}" if port and port != 6500 else "")
        serve += f" --db {db}" if db else ""
        lines += ["", f"Not serving (--no-serve): run `{serve}` to browse."]
    console.rule("assay demo")
    for line in lines:
        # soft_wrap: long commands and keys stay on one line, so they can be copied.
        console.print(line, soft_wrap=True, highlight=False)
    if result.server is not None:
        wait_forever(result.server)


def register(app: typer.Typer) -> None:
    """Add ``assay demo`` to the root app."""
    app.command("demo")(demo)
