"""SQLAlchemy models of the store: projects, keys, users, releases, traces, spans, feedback,
datasets and their cases, cached embeddings, experiments, and the loop (review queues,
routing rules, annotations, online scorers and their background jobs).

Span and trace times are integer nanoseconds since the epoch, as OTLP sends them,
and JSON columns hold pre-serialised text: both keep SQLAlchemy's per-row bind
processing off the ingest hot path (measured: ~30% of writer time with `DateTime`
and `JSON` columns on SQLite).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from assay.store.dialects import UTCDateTime

# Stable constraint names so Alembic migrations are identical on both dialects.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base carrying the naming convention."""

    metadata = MetaData(naming_convention=NAMING)


class Project(Base):
    """One AI feature or agent; everything else is scoped to a project."""

    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str] = mapped_column(String(200), default="")
    # JSON list of attribute keys lifted into a trace's slices (besides the defaults).
    slice_keys: Mapped[str] = mapped_column(Text, default="[]")
    # JSON object: {"builtins": [...], "patterns": [{"name":..., "regex":...}]}.
    redaction: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiKey(Base):
    """A project API key. Only its SHA-256 is stored; the key is shown once."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100), default="default")
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class User(Base):
    """A person who signs in to the web UI."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), default="admin")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ServerSecret(Base):
    """Server-wide generated secrets (the session signing key), kept across restarts."""

    __tablename__ = "server_secrets"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


class Release(Base):
    """A behaviour version: a canonical manifest and its SHA-256 fingerprint. Immutable."""

    __tablename__ = "releases"
    __table_args__ = (
        UniqueConstraint("project_id", "name"),
        UniqueConstraint("project_id", "fingerprint"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64))
    manifest: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Trace(Base):
    """One request through the app: an aggregate over its spans, kept by the writer.

    ``release_ref`` is what the app sent (`assay.release` or `service.version`); it
    is matched against release names and fingerprints when read, so traces that
    arrive before their release is registered are tied to it once it is.
    """

    __tablename__ = "traces"
    __table_args__ = (
        UniqueConstraint("project_id", "trace_id"),
        Index("ix_traces_project_start", "project_id", "start_ns"),
        Index("ix_traces_project_release", "project_id", "release_ref"),
        # The worker reads one session's traces for implicit signals (retries,
        # abandonment); without this it would scan a day of the project's traces.
        Index("ix_traces_project_session", "project_id", "session_id", "start_ns"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    trace_id: Mapped[str] = mapped_column(String(32))
    release_ref: Mapped[str | None] = mapped_column(String(200), default=None)
    service_name: Mapped[str | None] = mapped_column(String(200), default=None)
    name: Mapped[str | None] = mapped_column(String(500), default=None)
    has_root: Mapped[int] = mapped_column(Integer, default=0)
    start_ns: Mapped[int] = mapped_column(BigInteger)
    end_ns: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(10), default="unset")
    model: Mapped[str | None] = mapped_column(String(200), default=None)
    input: Mapped[str | None] = mapped_column(Text, default=None)
    output: Mapped[str | None] = mapped_column(Text, default=None)
    span_count: Mapped[int] = mapped_column(Integer, default=0)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    prompt_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    completion_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    cost: Mapped[float] = mapped_column(Float, default=0.0)
    session_id: Mapped[str | None] = mapped_column(String(200), default=None)
    user_id: Mapped[str | None] = mapped_column(String(200), default=None)
    slices: Mapped[str] = mapped_column(Text, default="{}")
    resource: Mapped[str] = mapped_column(Text, default="{}")


class Span(Base):
    """One step of a trace, normalised from GenAI or OpenInference conventions."""

    __tablename__ = "spans"
    __table_args__ = (UniqueConstraint("project_id", "trace_id", "span_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    trace_id: Mapped[str] = mapped_column(String(32))
    span_id: Mapped[str] = mapped_column(String(16))
    parent_span_id: Mapped[str | None] = mapped_column(String(16), default=None)
    name: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(20))
    model: Mapped[str | None] = mapped_column(String(200), default=None)
    provider: Mapped[str | None] = mapped_column(String(100), default=None)
    input: Mapped[str | None] = mapped_column(Text, default=None)
    output: Mapped[str | None] = mapped_column(Text, default=None)
    prompt_tokens: Mapped[int | None] = mapped_column(BigInteger, default=None)
    completion_tokens: Mapped[int | None] = mapped_column(BigInteger, default=None)
    cost: Mapped[float | None] = mapped_column(Float, default=None)
    start_ns: Mapped[int] = mapped_column(BigInteger)
    end_ns: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(10), default="unset")
    status_message: Mapped[str | None] = mapped_column(Text, default=None)
    session_id: Mapped[str | None] = mapped_column(String(200), default=None)
    user_id: Mapped[str | None] = mapped_column(String(200), default=None)
    attributes: Mapped[str] = mapped_column(Text, default="{}")
    events: Mapped[str] = mapped_column(Text, default="[]")


class SpanLog(Base):
    """A GenAI content log event (OTLP logs) that belongs to a span.

    The official GenAI instrumentations send prompts and completions as log records;
    they are kept here and folded into their span's input/output whichever of the
    two arrives first.
    """

    __tablename__ = "span_logs"
    __table_args__ = (Index("ix_span_logs_trace", "project_id", "trace_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    trace_id: Mapped[str] = mapped_column(String(32))
    span_id: Mapped[str] = mapped_column(String(16))
    event_name: Mapped[str] = mapped_column(String(100))
    time_ns: Mapped[int] = mapped_column(BigInteger)
    body: Mapped[str] = mapped_column(Text)


class Feedback(Base):
    """Evidence about a trace's quality from a person or a system."""

    __tablename__ = "feedback"
    __table_args__ = (Index("ix_feedback_trace", "project_id", "trace_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    trace_id: Mapped[str] = mapped_column(String(32))
    span_id: Mapped[str | None] = mapped_column(String(16), default=None)
    name: Mapped[str] = mapped_column(String(100))
    value_num: Mapped[float | None] = mapped_column(Float, default=None)
    value_text: Mapped[str | None] = mapped_column(Text, default=None)
    comment: Mapped[str | None] = mapped_column(Text, default=None)
    source: Mapped[str] = mapped_column(String(20), default="api")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Dataset(Base):
    """An eval suite: a name for a sequence of immutable versions of cases."""

    __tablename__ = "datasets"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DatasetVersion(Base):
    """One immutable version of a dataset: an ordered set of cases and its digest.

    ``digest`` is the SHA-256 of the version's (case id, case hash) pairs, so the same
    content always has the same digest whatever its history.
    """

    __tablename__ = "dataset_versions"
    __table_args__ = (UniqueConstraint("dataset_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    digest: Mapped[str] = mapped_column(String(64))
    case_count: Mapped[int] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(500), default="")
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Case(Base):
    """One eval case, content-addressed: versions that hold the same case share its row.

    JSON columns hold pre-serialised text. ``hash`` covers every field but the row
    id and ``created_at``.
    """

    __tablename__ = "cases"
    __table_args__ = (UniqueConstraint("dataset_id", "hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    case_id: Mapped[str] = mapped_column(String(200))
    hash: Mapped[str] = mapped_column(String(64))
    input: Mapped[str] = mapped_column(Text)
    reference: Mapped[str | None] = mapped_column(Text, default=None)
    rubric: Mapped[str | None] = mapped_column(Text, default=None)
    tags: Mapped[str] = mapped_column(Text, default="[]")
    slices: Mapped[str] = mapped_column(Text, default="{}")
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    cluster: Mapped[str | None] = mapped_column(String(200), default=None)
    meta: Mapped[str] = mapped_column("metadata", Text, default="{}")
    provenance: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DatasetVersionCase(Base):
    """Which cases a dataset version holds, in order."""

    __tablename__ = "dataset_version_cases"
    __table_args__ = (Index("ix_dataset_version_cases_case", "case_pk"),)

    version_id: Mapped[int] = mapped_column(
        ForeignKey("dataset_versions.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_pk: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))


class EmbeddingCache(Base):
    """A text's embedding under one model, so the same text is embedded once.

    ``vector`` is little-endian float32 bytes of length ``4 * dim``.
    """

    __tablename__ = "embedding_cache"

    model: Mapped[str] = mapped_column(String(200), primary_key=True)
    text_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    dim: Mapped[int] = mapped_column(Integer)
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Run(Base):
    """One experiment: a target run over a dataset version, with scorers.

    ``target`` is the target's spec as JSON (secrets left out); ``scorers`` the
    scorer specs, so the run can be scored again later. ``summary`` holds the
    per-scorer aggregates written when the run ends.
    """

    __tablename__ = "runs"
    __table_args__ = (
        UniqueConstraint("project_id", "name"),
        Index("ix_runs_project_created", "project_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    dataset_version_id: Mapped[int] = mapped_column(
        ForeignKey("dataset_versions.id", ondelete="CASCADE")
    )
    target: Mapped[str] = mapped_column(Text)
    target_fingerprint: Mapped[str] = mapped_column(String(64))
    release_ref: Mapped[str | None] = mapped_column(String(200), default=None)
    scorers: Mapped[str] = mapped_column(Text, default="[]")
    repeat: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(20), default="running")
    summary: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class RunResult(Base):
    """One sample of one case in a run: the target's output (or error) and its cost."""

    __tablename__ = "run_results"
    __table_args__ = (UniqueConstraint("run_id", "case_id", "sample"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    case_pk: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    case_id: Mapped[str] = mapped_column(String(200))
    sample: Mapped[int] = mapped_column(Integer, default=0)
    output: Mapped[str | None] = mapped_column(Text, default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    latency_ms: Mapped[float | None] = mapped_column(Float, default=None)
    prompt_tokens: Mapped[int | None] = mapped_column(BigInteger, default=None)
    completion_tokens: Mapped[int | None] = mapped_column(BigInteger, default=None)
    cost: Mapped[float | None] = mapped_column(Float, default=None)
    cached: Mapped[int] = mapped_column(Integer, default=0)
    scores: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ResultCache(Base):
    """A target's output for an input, so an unchanged rerun calls nothing.

    Keyed by the target's fingerprint, the SHA-256 of the input, and the sample
    number (a repeated case has one entry per sample).
    """

    __tablename__ = "result_cache"

    target_fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)
    input_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    sample: Mapped[int] = mapped_column(Integer, primary_key=True)
    output: Mapped[str] = mapped_column(Text)
    latency_ms: Mapped[float | None] = mapped_column(Float, default=None)
    prompt_tokens: Mapped[int | None] = mapped_column(BigInteger, default=None)
    completion_tokens: Mapped[int | None] = mapped_column(BigInteger, default=None)
    cost: Mapped[float | None] = mapped_column(Float, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class UserKey(Base):
    """A user's API key, for automation acting as that user (an annotation bot, a
    script that adjudicates). Only its SHA-256 is stored; the key is shown once."""

    __tablename__ = "user_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100), default="default")
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class ReviewQueue(Base):
    """A review queue: a label schema, instructions, and how items are handed out.

    ``label_schema`` is the JSON list of fields (see ``assay.review.schema``).
    ``overlap`` is how many annotators label each item; ``gold_rate`` the share of
    hand-outs that are gold items (known answers) measuring the annotator.
    """

    __tablename__ = "review_queues"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    instructions: Mapped[str] = mapped_column(Text, default="")
    label_schema: Mapped[str] = mapped_column(Text, default="[]")
    overlap: Mapped[int] = mapped_column(Integer, default=2)
    claim_seconds: Mapped[int] = mapped_column(Integer, default=1800)
    gold_rate: Mapped[float] = mapped_column(Float, default=0.0)
    agreement_floor: Mapped[float] = mapped_column(Float, default=0.667)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RoutingRule(Base):
    """Conditions over a trace's signals, scores and attributes that send it to a queue.

    ``conditions`` is a JSON list, all of which must hold (see ``assay.signals.rules``);
    ``sample_rate`` keeps that share of the matching traces (a calibration sample is
    a rule with no conditions and a small rate). ``matches`` counts the traces the
    rule matched, enqueued or not (each trace once; see :class:`RuleMatch`).
    """

    __tablename__ = "routing_rules"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    queue_id: Mapped[int] = mapped_column(ForeignKey("review_queues.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    conditions: Mapped[str] = mapped_column(Text, default="[]")
    sample_rate: Mapped[float] = mapped_column(Float, default=1.0)
    enabled: Mapped[int] = mapped_column(Integer, default=1)
    matches: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RuleMatch(Base):
    """A routing rule matched a trace: counted once per (rule, trace), with whether the
    trace was enqueued (False: sampled out, or in the queue already)."""

    __tablename__ = "rule_matches"
    __table_args__ = (
        UniqueConstraint("rule_id", "trace_id"),
        Index("ix_rule_matches_rule_matched", "rule_id", "matched_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("routing_rules.id", ondelete="CASCADE"))
    trace_id: Mapped[str] = mapped_column(String(32))
    enqueued: Mapped[int] = mapped_column(Integer, default=0)
    matched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class QueueItem(Base):
    """One trace in one queue. A trace enters a queue at most once (the unique key).

    ``status``: ``open`` (being labelled), ``disputed`` (labels disagree; waiting for
    an adjudicator), ``resolved`` (``label`` is the authoritative label). A resolved
    item with a ``gold`` label is also handed out as a gold item to annotators who
    have not labelled it.
    """

    __tablename__ = "queue_items"
    __table_args__ = (
        UniqueConstraint("queue_id", "trace_id"),
        Index("ix_queue_items_queue_status", "queue_id", "status"),
        Index("ix_queue_items_trace", "project_id", "trace_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("review_queues.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    trace_id: Mapped[str] = mapped_column(String(32))
    rule_id: Mapped[int | None] = mapped_column(
        ForeignKey("routing_rules.id", ondelete="SET NULL"), default=None
    )
    source: Mapped[str] = mapped_column(String(30), default="manual")
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="open")
    gold: Mapped[str | None] = mapped_column(Text, default=None)
    label: Mapped[str | None] = mapped_column(Text, default=None)
    resolution: Mapped[str | None] = mapped_column(String(20), default=None)
    resolved_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    resolution_reason: Mapped[str | None] = mapped_column(Text, default=None)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Assignment(Base):
    """An item handed to an annotator: claimed until ``expires_at``, then done or
    skipped (with a reason). An expired claim frees the slot for someone else."""

    __tablename__ = "queue_assignments"
    __table_args__ = (
        UniqueConstraint("item_id", "user_id"),
        Index("ix_queue_assignments_user_status", "user_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("queue_items.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20), default="claimed")
    gold: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    skip_reason: Mapped[str | None] = mapped_column(Text, default=None)


class Annotation(Base):
    """One annotator's label on one item: the schema's field values as JSON."""

    __tablename__ = "annotations"
    __table_args__ = (
        UniqueConstraint("item_id", "user_id"),
        Index("ix_annotations_queue_created", "queue_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("queue_items.id", ondelete="CASCADE"))
    queue_id: Mapped[int] = mapped_column(ForeignKey("review_queues.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    values: Mapped[str] = mapped_column(Text, default="{}")
    comment: Mapped[str | None] = mapped_column(Text, default=None)
    gold: Mapped[int] = mapped_column(Integer, default=0)
    seconds: Mapped[float | None] = mapped_column(Float, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class OnlineScorer(Base):
    """A scorer run by the background worker on a sample of new traces.

    ``spec`` is the scorer spec as JSON (as experiments store it); ``filters`` a JSON
    list of conditions (the routing rules' language) a trace must meet.
    """

    __tablename__ = "online_scorers"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    spec: Mapped[str] = mapped_column(Text)
    sample_rate: Mapped[float] = mapped_column(Float, default=1.0)
    filters: Mapped[str] = mapped_column(Text, default="[]")
    enabled: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OnlineScore(Base):
    """An online scorer's verdict on a trace (or the error that kept it from one)."""

    __tablename__ = "online_scores"
    __table_args__ = (
        UniqueConstraint("scorer_id", "trace_id"),
        Index("ix_online_scores_trace", "project_id", "trace_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    scorer_id: Mapped[int] = mapped_column(ForeignKey("online_scorers.id", ondelete="CASCADE"))
    trace_id: Mapped[str] = mapped_column(String(32))
    value: Mapped[float | None] = mapped_column(Float, default=None)
    passed: Mapped[int | None] = mapped_column(Integer, default=None)
    confidence: Mapped[float | None] = mapped_column(Float, default=None)
    reason: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Job(Base):
    """Background work on one trace (score it, derive its signals, route it).

    ``key`` makes a job unique (``score:<scorer id>:<trace id>``), so a trace is
    never scored twice by one scorer; on PostgreSQL workers claim pending jobs with
    ``FOR UPDATE SKIP LOCKED``. A route job is set back to pending when a new signal
    arrives for its trace.
    """

    __tablename__ = "jobs"
    __table_args__ = (
        UniqueConstraint("key"),
        Index("ix_jobs_status_available", "status", "available_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(200))
    trace_id: Mapped[str] = mapped_column(String(32))
    scorer_id: Mapped[int | None] = mapped_column(
        ForeignKey("online_scorers.id", ondelete="CASCADE"), default=None
    )
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    available_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(100), default=None)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WorkerCursor(Base):
    """How far the worker has looked through an append-only table (traces, feedback)."""

    __tablename__ = "worker_cursors"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
