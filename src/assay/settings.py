"""Settings, read once from the environment (prefix ``ASSAY_``) into one typed object.

Nothing else in assay reads ``os.environ``: entry points build a :class:`Settings`
and pass it down.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DB_DIR = ".assay"
DEFAULT_DB_FILE = "assay.db"


def default_database_url(cwd: Path | None = None) -> str:
    """The embedded SQLite store: ``.assay/assay.db`` under the working directory."""
    base = (cwd or Path.cwd()) / DEFAULT_DB_DIR / DEFAULT_DB_FILE
    return f"sqlite:///{base}"


class Settings(BaseSettings):
    """Every knob of assay. Each field is read from ``ASSAY_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="ASSAY_", extra="ignore", populate_by_name=True)

    database_url: str = Field(
        default="",
        description=(
            "SQLAlchemy URL of the store. Empty means the embedded SQLite file "
            "`.assay/assay.db` in the working directory; PostgreSQL is "
            "`postgresql+psycopg://user:pass@host/db`."
        ),
    )
    host: str = Field(
        default="127.0.0.1",
        description="Address `assay serve` listens on. Only loopback unless told otherwise.",
    )
    port: int = Field(default=6500, description="TCP port `assay serve` listens on.")
    secret_key: str = Field(
        default="",
        description=(
            "Key that signs UI session cookies. Empty: a random key is generated once "
            "and kept in the store, so sessions survive restarts."
        ),
    )
    secure_cookies: bool = Field(
        default=False,
        description=("Mark session cookies `Secure` (HTTPS only). Turn on behind a TLS proxy."),
    )
    session_max_age_s: int = Field(
        default=7 * 24 * 3600, description="Lifetime of a UI sign-in session, in seconds."
    )
    max_body_bytes: int = Field(
        default=16 * 1024 * 1024,
        description=(
            "Largest OTLP request body accepted, after gzip decompression; larger "
            "bodies get 413. The OTel Collector's default batch stays far below this."
        ),
    )
    ingest_queue_bytes: int = Field(
        # Eight exporters' 512-span requests in flight reserve ~21 MiB; 32 MiB leaves
        # room for bursts while the server's peak RSS stays near 200 MB.
        default=32 * 1024 * 1024,
        description=(
            "Bytes of decoded span data that may wait for the writer. When full, "
            "ingest answers 503 with Retry-After; this bounds server memory."
        ),
    )
    ingest_batch_bytes: int = Field(
        default=8 * 1024 * 1024,
        description="Most bytes of span data group-committed in one transaction.",
    )
    ingest_workers: int = Field(
        default=0,
        ge=0,
        le=64,
        description=(
            "Worker processes that decode and normalise OTLP traces, so ingest uses "
            "more than one core (the server process keeps HTTP and the writer). 0: "
            "normalise in the server process. See bench/README.md for measured rates."
        ),
    )
    ingest_compiled: bool = Field(
        default=True,
        description=(
            "Decode OTLP protobuf traces with the compiled decoder when it is built "
            "(it is when a C compiler was there at install); false: the Python path "
            "only. Both store the same rows."
        ),
    )
    prices_file: Path | None = Field(
        default=None,
        description=(
            "TOML file of model prices (USD per million tokens) that extends and "
            "overrides the table shipped with assay."
        ),
    )

    api_scorer_base_urls: list[str] = Field(
        default_factory=lambda: ["https://api.openai.com/v1"],
        description=(
            "Base URLs an online scorer created over the REST API may call (a judge's "
            "`base_url`, an `openai:MODEL@URL` embedder), as a JSON list. The worker "
            "sends `ASSAY_OPENAI_API_KEY` there, and a project API key is no admin "
            "credential. `assay online add` is not limited."
        ),
    )
    serve_worker: bool = Field(
        default=True,
        description=(
            "Run the background worker (online scorers, implicit signals, routing rules) "
            "in a thread of `assay serve`. Turn off when separate `assay worker` "
            "processes do the work (`assay serve --no-worker` does the same)."
        ),
    )
    worker_interval_s: float = Field(
        default=2.0,
        gt=0,
        description=(
            "Seconds a worker waits between passes when it found nothing to do. New "
            "traces are scored and routed within about this long after they settle."
        ),
    )
    worker_settle_s: float = Field(
        default=5.0,
        ge=0,
        description=(
            "Seconds after a trace's last span ends before the worker takes it up, so "
            "spans still on their way (a batch exporter flushes every 5 s) are in."
        ),
    )
    worker_root_wait_s: float = Field(
        default=300.0,
        ge=0,
        description=(
            "Seconds the worker waits for a trace's root span before taking up a trace "
            "without one (its root lives in a service that does not send to assay). "
            "Child spans are often exported before the root ends; a trace scored and "
            "routed without its root would be judged on no input."
        ),
    )
    worker_batch: int = Field(
        default=50,
        ge=1,
        le=1000,
        description=(
            "Score jobs a worker claims at once. Online scorers of one batch run "
            "concurrently, so this also bounds the calls in flight to a judge. "
            "Session and route jobs are claimed up to 500 at a time."
        ),
    )
    worker_lease_s: float = Field(
        default=600.0,
        gt=0,
        description=(
            "Seconds a claimed job belongs to its worker. A job still unfinished then "
            "(its worker died) is claimed again by another."
        ),
    )
    worker_max_attempts: int = Field(
        default=5,
        ge=1,
        description=(
            "Tries of a failing job (with exponential backoff from 5 s) before it is "
            "marked failed with its error kept."
        ),
    )
    worker_job_retention_s: float = Field(
        default=7 * 24 * 3600.0,
        ge=0,
        description=(
            "Seconds finished route and session jobs are kept before the worker deletes "
            "them (every ten minutes), so the jobs table does not grow with traffic. "
            "Score jobs are kept: they stop a backfill from scoring a trace twice."
        ),
    )
    worker_commit_lag_s: float = Field(
        default=15.0,
        ge=0,
        description=(
            "PostgreSQL only: seconds a worker waits before reading past a new trace or "
            "feedback row id, so rows of transactions still committing are not skipped "
            "(ids are drawn before commit). Longer than any ingest transaction."
        ),
    )
    signal_retry_s: float = Field(
        default=120.0,
        ge=0,
        description=(
            "Implicit signal `retried`: longest pause, in seconds, between a trace's end "
            "and the next trace of its session that counts as the user asking again."
        ),
    )
    signal_retry_similarity: float = Field(
        default=0.6,
        ge=0,
        le=1,
        description=(
            "Implicit signal `retried`: least similarity of the two inputs (rapidfuzz "
            "`fuzz.ratio` / 100) for the next trace to count as a retry."
        ),
    )
    signal_abandon_s: float = Field(
        default=1800.0,
        gt=0,
        description=(
            "Implicit signal `abandoned`: seconds of quiet after a session's last trace "
            "before the session counts as ended (and abandoned, if it ended on a retry, "
            "an error or negative feedback with no positive feedback)."
        ),
    )

    openai_api_key: str = Field(
        default="",
        validation_alias=AliasChoices("ASSAY_OPENAI_API_KEY", "OPENAI_API_KEY"),
        description=(
            "API key that experiment targets and LLM judges send to OpenAI-compatible "
            "endpoints (`Authorization: Bearer`). Falls back to `OPENAI_API_KEY`. Never "
            "stored, never part of a fingerprint."
        ),
    )

    github_step_summary: Path | None = Field(
        default=None,
        validation_alias=AliasChoices("ASSAY_GITHUB_STEP_SUMMARY", "GITHUB_STEP_SUMMARY"),
        description=(
            "File that `assay gate` appends its Markdown summary to. GitHub Actions sets "
            "`GITHUB_STEP_SUMMARY`, which is read when this is not set."
        ),
    )

    def resolved_database_url(self) -> str:
        """The store URL, falling back to the embedded SQLite file."""
        return self.database_url or default_database_url()


def settings_markdown() -> str:
    """The settings reference (docs/reference/settings.md), made from :class:`Settings`."""
    lines = [
        "# Settings reference",
        "",
        "<!-- Generated by `scripts/docs` from assay.settings.Settings; do not edit. -->",
        "",
        "Every setting is read once at start-up from an environment variable with the",
        "`ASSAY_` prefix. Command-line options (`assay serve --host ...`) override them.",
        "",
        "| variable | default | meaning |",
        "|---|---|---|",
    ]
    for name, field in Settings.model_fields.items():
        default = field.default
        shown = "(empty)" if default in ("", None) else f"`{default}`"
        text = (field.description or "").replace("|", "\\|")
        lines.append(f"| `ASSAY_{name.upper()}` | {shown} | {text} |")
    return "\n".join(lines) + "\n"
