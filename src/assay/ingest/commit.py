"""One group commit's transaction: new spans, their traces' aggregates, content logs.

The writer (:mod:`assay.ingest.writer`) decides what goes into a transaction; this
module writes it. Statements are SQLAlchemy constructs compiled once per dialect and
executed through the driver's executemany (see :class:`ManyStatement`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import Connection, Table, and_, case, func, select, update
from sqlalchemy.exc import DBAPIError

from assay.ingest import messages as msgs
from assay.store.dialects import (
    ManyStatement,
    greatest,
    insert_for,
    is_sqlite,
    json_merge,
    least,
)
from assay.store.models import Feedback, Span, SpanLog, Trace

SPANS: Table = Span.__table__  # type: ignore[assignment]
TRACES: Table = Trace.__table__  # type: ignore[assignment]
LOGS: Table = SpanLog.__table__  # type: ignore[assignment]
FEEDBACK: Table = Feedback.__table__  # type: ignore[assignment]
SpanKey = tuple[int, str, str]
TraceKey = tuple[int, str]

if TYPE_CHECKING:
    from assay.ingest.normalize import ResourceInfo, SpanBatch


@dataclass(frozen=True)
class Prepared:
    """What the writer needs of one request's spans beyond their rows, worked out
    before the writer thread takes them (in the request's decoder thread), so the
    writer's own time, which bounds how fast ingest goes, is spent in the database.

    It holds for the usual case, where every span of the request is new; the
    writer falls back to working it out from the rows when some were stored before.
    """

    keys: frozenset[SpanKey]
    """The (project, trace, span) keys of the request's spans."""
    traces: dict[TraceKey, dict[str, Any]]
    """One trace row per trace, aggregated from all of the request's spans."""
    waiting: tuple[SpanKey, ...]
    """Model spans with no input or output of their own: their content may have
    come as log events before them."""


def prepare(batch: SpanBatch) -> Prepared:
    """Work out what the writer needs of ``batch`` beyond its rows (see :class:`Prepared`);
    kept on the batch, so calling it again is free."""
    if batch.prepared is None:
        rows = batch.rows
        batch.prepared = Prepared(
            keys=frozenset([(r["project_id"], r["trace_id"], r["span_id"]) for r in rows]),
            traces={
                (t["project_id"], t["trace_id"]): t
                for t in aggregate_traces(rows, batch.resources, batch.slices)
            },
            waiting=tuple(_waiting_for_logs(rows)),
        )
    return batch.prepared


def write_rows(
    conn: Connection,
    st: Statements,
    batches: list[SpanBatch],
    log_rows: list[dict[str, Any]],
    feedback_rows: list[dict[str, Any]] | None = None,
) -> set[SpanKey] | None:
    """Write requests' spans and logs in the caller's transaction.

    No span may be in ``batches`` twice (the writer keeps one copy). Only new spans
    count towards their trace's aggregates, and only their feedback events are
    stored, so a re-sent span (an exporter retrying after a timeout) is stored once
    and counted once.

    Returns:
        None when every span was new (the usual case), else the keys of those that were.
    """
    preps = [prepare(b) for b in batches]
    span_rows = list(chain.from_iterable(b.rows for b in batches))
    inserted = st.insert_new_spans(conn, span_rows) if span_rows else None
    if inserted is None:
        traces = _merged_traces(batches, preps)
        waiting: Iterable[SpanKey] = chain.from_iterable(p.waiting for p in preps)
        fresh_feedback = feedback_rows or []
    else:
        fresh_rows: list[dict[str, Any]] = []
        fresh_res: list[ResourceInfo] = []
        fresh_slices: list[dict[str, Any]] = []
        for b in batches:
            for row, res, sl in zip(b.rows, b.resources, b.slices, strict=True):
                if (row["project_id"], row["trace_id"], row["span_id"]) in inserted:
                    fresh_rows.append(row)
                    fresh_res.append(res)
                    fresh_slices.append(sl)
        traces = aggregate_traces(fresh_rows, fresh_res, fresh_slices)
        waiting = _waiting_for_logs(fresh_rows)
        fresh_feedback = [
            fb
            for fb in feedback_rows or ()
            if (fb["project_id"], fb["trace_id"], fb["span_id"]) in inserted
        ]
    if traces:
        st.many(conn, st.upsert_traces, traces).execute(conn, traces)
    if log_rows:
        conn.execute(st.insert_logs, log_rows)
    attach_logs(conn, waiting, log_rows)
    if fresh_feedback:
        conn.execute(FEEDBACK.insert(), fresh_feedback)
    return inserted


def _merged_traces(batches: list[SpanBatch], preps: list[Prepared]) -> list[dict[str, Any]]:
    """The trace rows of several requests whose spans were all new, in key order.

    A trace whose spans came in more than one of the requests (a batching exporter
    splits traces) is aggregated again from all of its spans, in request order, so
    the row is the one :func:`aggregate_traces` gives for the requests' rows together.
    """
    if len(preps) == 1:
        return list(preps[0].traces.values())  # already in key order
    merged: dict[TraceKey, dict[str, Any]] = {}
    shared: set[TraceKey] = set()
    for p in preps:
        for key, row in p.traces.items():
            if key in merged:
                shared.add(key)
            else:
                merged[key] = row
    if shared:
        rows: list[dict[str, Any]] = []
        resources: list[ResourceInfo] = []
        slices: list[dict[str, Any]] = []
        for b, p in zip(batches, preps, strict=True):
            if shared.isdisjoint(p.traces):
                continue
            for row, res, sl in zip(b.rows, b.resources, b.slices, strict=True):
                if (row["project_id"], row["trace_id"]) in shared:
                    rows.append(row)
                    resources.append(res)
                    slices.append(sl)
        for agg in aggregate_traces(rows, resources, slices):
            merged[(agg["project_id"], agg["trace_id"])] = agg
    return [merged[key] for key in sorted(merged)]


def _waiting_for_logs(rows: Iterable[dict[str, Any]]) -> Iterator[SpanKey]:
    """Model spans lacking input or output: their content logs may have come first."""
    for r in rows:
        if r["kind"] in ("llm", "embedding") and (r["input"] is None or r["output"] is None):
            yield (r["project_id"], r["trace_id"], r["span_id"])


class Statements:
    """The writer's statements, built once per dialect."""

    def __init__(self, dialect: str) -> None:
        self.sqlite = is_sqlite(dialect)
        self._many: dict[tuple[int, tuple[str, ...]], ManyStatement] = {}
        ins = insert_for(dialect, SPANS).on_conflict_do_nothing(
            index_elements=["project_id", "trace_id", "span_id"]
        )
        self.insert_spans = ins
        self.insert_spans_returning = ins.returning(
            SPANS.c.project_id, SPANS.c.trace_id, SPANS.c.span_id
        )
        self.insert_logs = LOGS.insert()
        t = TRACES.c
        up = insert_for(dialect, TRACES)
        ex = up.excluded
        root = ex.has_root == 1
        self.upsert_traces = up.on_conflict_do_update(
            index_elements=["project_id", "trace_id"],
            set_={
                "start_ns": least(dialect, t.start_ns, ex.start_ns),
                "end_ns": greatest(dialect, t.end_ns, ex.end_ns),
                "has_root": greatest(dialect, t.has_root, ex.has_root),
                "name": case((root, ex.name), else_=func.coalesce(t.name, ex.name)),
                "input": case(
                    (and_(root, ex.input.is_not(None)), ex.input),
                    else_=func.coalesce(t.input, ex.input),
                ),
                "output": case(
                    (and_(root, ex.output.is_not(None)), ex.output),
                    else_=func.coalesce(t.output, ex.output),
                ),
                "status": case(
                    (t.error_count + ex.error_count > 0, "error"),
                    (root, ex.status),
                    else_=t.status,
                ),
                "model": func.coalesce(t.model, ex.model),
                "release_ref": func.coalesce(t.release_ref, ex.release_ref),
                "service_name": func.coalesce(t.service_name, ex.service_name),
                "session_id": func.coalesce(t.session_id, ex.session_id),
                "user_id": func.coalesce(t.user_id, ex.user_id),
                "span_count": t.span_count + ex.span_count,
                "error_count": t.error_count + ex.error_count,
                "prompt_tokens": t.prompt_tokens + ex.prompt_tokens,
                "completion_tokens": t.completion_tokens + ex.completion_tokens,
                "cost": t.cost + ex.cost,
                "slices": json_merge(dialect, t.slices, ex.slices),
                "resource": case((root, ex.resource), else_=t.resource),
            },
        )

    def many(self, conn: Connection, statement: Any, rows: list[dict[str, Any]]) -> ManyStatement:
        """``statement`` compiled for ``conn`` and the keys of ``rows`` (cached)."""
        keys = tuple(rows[0])
        cache_key = (id(statement), keys)
        found = self._many.get(cache_key)
        if found is None:
            found = self._many[cache_key] = ManyStatement(statement, keys, conn.dialect)
        return found

    def insert_new_spans(self, conn: Connection, rows: list[dict[str, Any]]) -> set[SpanKey] | None:
        """Insert the spans not stored yet: None when every row was new (the usual
        case, told without building a set of keys), else the keys that were.

        On SQLite the writer holds the database's write lock for the whole
        transaction (BEGIN IMMEDIATE), so the rows that get ids above the largest id
        before the insert are exactly the new ones. Usually every row is new, which
        the driver's count of inserted rows tells without a query. On PostgreSQL
        other processes write concurrently: ``ON CONFLICT DO NOTHING RETURNING``
        says exactly which rows this transaction inserted.
        """
        if not self.sqlite:
            keys = self._insert_returning_pg(conn, rows)
            return None if len(keys) == len(rows) else keys
        before = conn.execute(select(func.max(SPANS.c.id))).scalar() or 0
        count = self.many(conn, self.insert_spans, rows).execute(conn, rows)
        if count == len(rows):
            return None
        new = conn.execute(
            select(SPANS.c.project_id, SPANS.c.trace_id, SPANS.c.span_id).where(SPANS.c.id > before)
        )
        return {(p, t, s) for p, t, s in new}

    def _insert_returning_pg(
        self, conn: Connection, rows: list[dict[str, Any]]
    ) -> set[tuple[int, str, str]]:
        # psycopg's own executemany(returning=True) pipelines one prepared statement;
        # SQLAlchemy's insertmanyvalues sends one statement with rows x 21 named
        # placeholders that the server parses anew each batch (measured: 1.07 s of
        # 1.9 s writing 4,096 spans, against 0.26 s of CPU this way).
        many = self.many(conn, self.insert_spans_returning, rows)
        cursor = conn.connection.cursor()
        keys: set[tuple[int, str, str]] = set()
        dbapi_error = conn.dialect.loaded_dbapi.Error
        try:
            cursor.executemany(many.sql, many.params(rows), returning=True)  # type: ignore[call-arg]
            while True:
                keys.update((p, t, s) for p, t, s in cursor.fetchall())
                if not cursor.nextset():
                    break
        except dbapi_error as exc:
            # Past SQLAlchemy, so do what it would: drop the connection (a failed
            # pipeline can leave it unusable) and raise its wrapped error type.
            conn.invalidate()
            raise DBAPIError.instance(many.sql, None, exc, dbapi_error) from exc
        finally:
            cursor.close()
        return keys


# Which span's text stands for the whole trace when the root has none: the input of
# the span that started first, the output of the model call that ended last (the
# final answer of a chain), else of whichever span ended last.
_ROOT_RANK = (3, 0)


def _output_rank(row: dict[str, Any]) -> tuple[int, int]:
    return (1 if row["kind"] == "llm" else 0, row["end_ns"])


def _span_keys_in_traces(
    conn: Connection, model: type[Span] | type[SpanLog], keys: Iterable[tuple[int, str]]
) -> set[tuple[int, str, str]]:
    """The (project, trace, span) keys stored in ``model``'s table for these traces.

    Looked up by (project, trace), which both tables index, in chunks that stay
    under SQLite's bound-parameter limit.
    """
    traces: dict[int, set[str]] = {}
    for project_id, trace_id in keys:
        traces.setdefault(project_id, set()).add(trace_id)
    found: set[tuple[int, str, str]] = set()
    for project_id, trace_ids in traces.items():
        ids = sorted(trace_ids)
        for start in range(0, len(ids), 5_000):
            query = (
                select(model.trace_id, model.span_id)
                .where(
                    model.project_id == project_id, model.trace_id.in_(ids[start : start + 5_000])
                )
                .distinct()
            )
            found.update((project_id, t, s) for t, s in conn.execute(query))
    return found


def aggregate_traces(
    rows: list[dict[str, Any]], resources: list[Any], slices: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """One trace row per (project, trace) from newly inserted span rows."""
    traces: dict[tuple[int, str], dict[str, Any]] = {}
    ranks: dict[tuple[int, str], list[Any]] = {}  # [input start_ns, output rank, name start]
    for row, res, sl in zip(rows, resources, slices, strict=True):
        key = (row["project_id"], row["trace_id"])
        is_root = row["parent_span_id"] is None
        agg = traces.get(key)
        if agg is None:
            agg = traces[key] = {
                "project_id": key[0],
                "trace_id": key[1],
                "release_ref": res.release_ref,
                "service_name": res.service_name,
                "name": row["name"],
                "has_root": 0,
                "start_ns": row["start_ns"],
                "end_ns": row["end_ns"],
                "status": "unset",
                "model": row["model"],
                "input": None,
                "output": None,
                "span_count": 0,
                "error_count": 0,
                "prompt_tokens": 0,
                "completion_tokens": 0,
                "cost": 0.0,
                "session_id": row["session_id"],
                "user_id": row["user_id"],
                "slices": {},
                "resource": res.resource_json,
            }
            rank = ranks[key] = [None, None, row["start_ns"]]
        else:
            rank = ranks[key]
            agg["start_ns"] = min(agg["start_ns"], row["start_ns"])
            agg["end_ns"] = max(agg["end_ns"], row["end_ns"])
            if not agg["has_root"] and row["start_ns"] < rank[2]:
                rank[2] = row["start_ns"]
                agg["name"] = row["name"]
            agg["model"] = agg["model"] or row["model"]
            agg["session_id"] = agg["session_id"] or row["session_id"]
            agg["user_id"] = agg["user_id"] or row["user_id"]
            agg["release_ref"] = agg["release_ref"] or res.release_ref
        if is_root:
            agg["has_root"] = 1
            agg["name"] = row["name"]
            agg["status"] = row["status"]
            agg["resource"] = res.resource_json
        if row["input"] is not None:
            start = -1 if is_root else row["start_ns"]
            if rank[0] is None or start < rank[0]:
                rank[0] = start
                agg["input"] = row["input"]
        if row["output"] is not None:
            out_rank = _ROOT_RANK if is_root else _output_rank(row)
            if rank[1] is None or out_rank > rank[1]:
                rank[1] = out_rank
                agg["output"] = row["output"]
        agg["span_count"] += 1
        if row["status"] == "error":
            agg["error_count"] += 1
            agg["status"] = "error"
        agg["prompt_tokens"] += row["prompt_tokens"] or 0
        agg["completion_tokens"] += row["completion_tokens"] or 0
        agg["cost"] += row["cost"] or 0.0
        if sl:
            agg["slices"].update(sl)
    out = []
    for key in sorted(traces):  # a fixed order avoids deadlocks between PostgreSQL writers
        agg = traces[key]
        agg["slices"] = orjson.dumps(agg["slices"]).decode()
        out.append(agg)
    return out


def attach_logs(
    conn: Connection, waiting: Iterable[SpanKey], log_rows: list[dict[str, Any]]
) -> None:
    """Fold GenAI content logs into their spans, whichever of the two arrived first.

    ``waiting`` are newly stored model spans lacking content, whose logs may have
    arrived before them.
    """
    targets: set[SpanKey] = {(r["project_id"], r["trace_id"], r["span_id"]) for r in log_rows}
    waiting = list(waiting)
    if waiting:
        # Matching span ids here rather than with a row-value IN over every span:
        # that cost a quarter of the writer's time on content-less GenAI spans.
        logged = _span_keys_in_traces(conn, SpanLog, ((p, t) for p, t, _ in waiting))
        targets.update(logged.intersection(waiting))
    if not targets:
        return
    for project_id, trace_id, span_id in sorted(targets):
        events = conn.execute(
            select(SpanLog.event_name, SpanLog.body)
            .where(
                SpanLog.project_id == project_id,
                SpanLog.trace_id == trace_id,
                SpanLog.span_id == span_id,
            )
            .order_by(SpanLog.time_ns, SpanLog.id)
        ).all()
        ev_in, ev_out = msgs.from_events([(name, orjson.loads(body)) for name, body in events])
        text_in = msgs.dumps(ev_in) if ev_in else None
        text_out = msgs.dumps(ev_out) if ev_out else None
        if text_in is None and text_out is None:
            continue
        where = (Span.project_id == project_id, Span.trace_id == trace_id, Span.span_id == span_id)
        conn.execute(
            update(Span)
            .where(*where)
            .values(
                input=func.coalesce(Span.input, text_in),
                output=func.coalesce(Span.output, text_out),
            )
        )
        conn.execute(
            update(Trace)
            .where(Trace.project_id == project_id, Trace.trace_id == trace_id)
            .values(
                input=func.coalesce(Trace.input, text_in),
                output=func.coalesce(Trace.output, text_out),
            )
        )
