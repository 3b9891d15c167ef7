"""Reading rows back: JSON columns with a fallback, and the paused collector."""

from __future__ import annotations

import gc
import json
import math
import threading

import pytest

from assay.store.reads import load_json, paused_gc


def test_json_columns_parse_with_orjson_and_fall_back_for_nan_and_infinity() -> None:
    assert load_json('{"a": [1, 2.5, "x"], "b": null}') == {"a": [1, 2.5, "x"], "b": None}
    assert load_json(b'{"a": 1}') == {"a": 1}
    loaded = load_json(json.dumps({"v": float("nan"), "w": float("inf")}))
    assert math.isnan(loaded["v"])
    assert loaded["w"] == math.inf
    with pytest.raises(json.JSONDecodeError):
        load_json("{not json")


def test_collector_pauses_nest_and_come_back_only_after_the_last() -> None:
    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_collector_stays_off_if_it_was_off_and_comes_back_after_an_error() -> None:
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
    with pytest.raises(RuntimeError), paused_gc():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_concurrent_pauses_end_with_the_collector_on() -> None:
    started = threading.Barrier(4)

    def pause() -> None:
        with paused_gc():
            started.wait()

    threads = [threading.Thread(target=pause) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert gc.isenabled()
