"""Statements executed with many rows: multi-row on SQLite, the same results as one by one."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select

from assay.store import Store, dialects
from assay.store.dialects import MULTI_ROWS, ManyStatement, _chunk_sizes, insert_for

META = MetaData()
ITEMS = Table(
    "many_items",
    META,
    Column("k", Integer, primary_key=True),
    Column("name", String(50), nullable=False),
    Column("hits", Integer, nullable=False),
    Column("note", String(20), nullable=True),
)


@pytest.mark.parametrize("n", [1, 2, 255, 256, 257, 700, 1_000])
def test_chunks_cover_every_row_with_few_distinct_statements(n: int) -> None:
    sizes = _chunk_sizes(n)
    assert sum(sizes) == n
    assert all(0 < s <= MULTI_ROWS for s in sizes)
    assert len(set(sizes)) <= 9


def test_rows_per_statement_fit_the_parameter_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    assert dialects._rows_per_statement(21) == MULTI_ROWS
    monkeypatch.setattr(dialects, "_SQLITE_VARIABLES", 999)  # SQLite before 3.32
    assert dialects._rows_per_statement(21) == 32  # 32 x 21 = 672 <= 999 < 64 x 21
    assert dialects._rows_per_statement(2_000) == 1
    assert _chunk_sizes(100, 32) == [32, 32, 32, 4]


def _rows(keys: range, hits: int = 1) -> list[dict[str, Any]]:
    return [{"k": k, "name": f"item {k}", "hits": hits} for k in keys]


def test_insert_and_upsert_with_constants_match_row_by_row(store: Store) -> None:
    dialect = store.engine.dialect.name
    META.create_all(store.engine)
    try:
        insert = insert_for(dialect, ITEMS).on_conflict_do_nothing(index_elements=["k"])
        ins = insert_for(dialect, ITEMS)
        # The SET clause holds a constant ("bumped"): a parameter after the rows'.
        upsert = ins.on_conflict_do_update(
            index_elements=["k"],
            set_={"hits": ITEMS.c.hits + ins.excluded.hits, "note": "bumped"},
        )
        with store.writer.begin() as conn:
            many = ManyStatement(insert, ["k", "name", "hits"], conn.dialect)
            # SQLite takes the multi-row path; PostgreSQL the driver's executemany.
            assert (many._multi is not None) == (dialect == "sqlite")
            assert many.execute(conn, _rows(range(0, 600))) == 600
            # Half new, half already there: only the new ones count.
            assert many.execute(conn, _rows(range(300, 900))) == 300
            up = ManyStatement(upsert, ["k", "name", "hits"], conn.dialect)
            up.execute(conn, _rows(range(800, 1_100), hits=5))
        with store.session() as session:
            count = session.execute(select(func.count()).select_from(ITEMS)).scalar()
            assert count == 1_100
            rows = {
                k: (hits, note)
                for k, hits, note in session.execute(select(ITEMS.c.k, ITEMS.c.hits, ITEMS.c.note))
            }
        assert rows[0] == (1, None)
        assert rows[850] == (6, "bumped")
        assert rows[1_050] == (5, None)
    finally:
        META.drop_all(store.engine)
