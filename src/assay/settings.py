"""Settings, read once from the environment (prefix ``ASSAY_``) into one typed object.

Nothing else in assay reads ``os.environ``: entry points build a :class:`Settings`
and pass it down.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DB_DIR = ".assay"
DEFAULT_DB_FILE = "assay.db"


def default_database_url(cwd: Path | None = None) -> str:
    """The embedded SQLite store: ``.assay/assay.db`` under the working directory."""
    base = (cwd or Path.cwd()) / DEFAULT_DB_DIR / DEFAULT_DB_FILE
    return f"sqlite:///{base}"


class Settings(BaseSettings):
    """Every knob of assay. Each field is read from ``ASSAY_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="ASSAY_", extra="ignore")

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
        default=48 * 1024 * 1024,
        description=(
            "Bytes of decoded span data that may wait for the writer. When full, "
            "ingest answers 503 with Retry-After; this bounds server memory."
        ),
    )
    ingest_batch_bytes: int = Field(
        default=8 * 1024 * 1024,
        description="Most bytes of span data group-committed in one transaction.",
    )
    prices_file: Path | None = Field(
        default=None,
        description=(
            "TOML file of model prices (USD per million tokens) that extends and "
            "overrides the table shipped with assay."
        ),
    )

    def resolved_database_url(self) -> str:
        """The store URL, falling back to the embedded SQLite file."""
        return self.database_url or default_database_url()
