"""Events through strata_engine_subscribe: types, payloads, unsubscribe, failing and re-entrant callbacks."""

from __future__ import annotations

import gc
import sys
import threading
from datetime import datetime, timezone

import pytest

import strata


@pytest.fixture
def recorder(engine):
    events: list[strata.Event] = []
    token = engine.subscribe(events.append)
    return engine, events, token


def test_stored_updated_forgotten_and_deduplicated_events(recorder):
    engine, events, _ = recorder
    mid = engine.store("the wifi password is on the fridge", {"room": "kitchen"}, "home")
    assert [e.type for e in events] == ["memory.stored"]
    stored = events[0]
    assert isinstance(stored, strata.Event) and stored.memory_id == mid and stored.score is None
    assert stored.at.tzinfo is not None and abs((datetime.now(timezone.utc) - stored.at).total_seconds()) < 60
    assert isinstance(stored.memory, strata.Memory) and stored.memory.content == "the wifi password is on the fridge"
    assert stored.memory.metadata == {"room": "kitchen"} and stored.memory.scope == "home"

    engine.update(mid, content="the wifi password is in the drawer")
    assert events[-1].type == "memory.updated" and events[-1].memory_id == mid
    assert events[-1].memory.content == "the wifi password is in the drawer"

    assert engine.store("the wifi password is in the drawer", scope="home") == mid
    assert events[-1].type == "memory.deduplicated" and events[-1].memory_id == mid

    engine.forget(mid)
    assert events[-1].type == "memory.forgotten" and events[-1].memory_id == mid
    assert [e.type for e in events] == ["memory.stored", "memory.updated", "memory.deduplicated", "memory.forgotten"]


def test_batch_and_vector_stores_emit_one_event_per_memory(recorder):
    engine, events, _ = recorder
    ids = engine.store_many(["one apple", "two bananas", "three cherries"])
    assert [e.memory_id for e in events] == ids
    assert all(e.type == "memory.stored" for e in events)


def test_forget_by_filter_emits_for_each(recorder):
    engine, events, _ = recorder
    a = engine.store("alpha", {"g": 1})
    b = engine.store("beta", {"g": 1})
    engine.store("gamma", {"g": 2})
    events.clear()
    engine.forget(filter={"g": 1})
    assert sorted(e.memory_id for e in events) == sorted([a, b])
    assert {e.type for e in events} == {"memory.forgotten"}


def test_failed_calls_emit_nothing(recorder):
    engine, events, _ = recorder
    with pytest.raises(strata.InvalidArgument):
        engine.store_many(["ok", {"content": "bad", "importance": 9}])
    with pytest.raises(strata.NotFound):
        engine.forget("m-nope")
    assert events == []


def test_unsubscribe_stops_events(recorder):
    engine, events, token = recorder
    engine.store("before")
    engine.unsubscribe(token)
    engine.store("after")
    assert [e.memory.content for e in events] == ["before"]
    with pytest.raises(strata.NotFound):
        engine.unsubscribe(token)
    assert token not in engine._subscriptions


def test_several_subscribers_each_get_every_event(engine):
    a: list[str] = []
    b: list[str] = []
    ta = engine.subscribe(lambda e: a.append(e.type))
    tb = engine.subscribe(lambda e: b.append(e.type))
    assert ta != tb and ta != 0 and tb != 0
    engine.store("shared news")
    engine.unsubscribe(ta)
    engine.store("later news")
    assert a == ["memory.stored"] and b == ["memory.stored", "memory.stored"]


def test_callback_survives_garbage_collection(engine):
    events: list[strata.Event] = []
    engine.subscribe(lambda e: events.append(e))  # only the engine holds this lambda and its cffi callback
    gc.collect()
    engine.store("still delivered")
    assert len(events) == 1


def test_raising_callback_does_not_crash_and_is_reported(engine, monkeypatch):
    reported = []
    monkeypatch.setattr(sys, "unraisablehook", lambda args: reported.append(args))
    good: list[strata.Event] = []

    def bad(event):
        raise RuntimeError("subscriber bug")

    engine.subscribe(bad)
    engine.subscribe(good.append)
    mid = engine.store("something happened")
    assert engine.get(mid).content == "something happened"
    assert len(good) == 1
    assert len(reported) == 1
    assert reported[0].exc_type is RuntimeError and "subscriber bug" in str(reported[0].exc_value)
    engine.store("something else")
    assert len(reported) == 2 and len(good) == 2


def test_callback_may_call_every_verb_but_close_of_the_same_engine(engine):
    # The library delivers events after releasing its locks: a callback may use every verb of
    # the same engine; only close() is refused (it would wait for the call the callback is in).
    seen = []
    extra: list[strata.Event] = []

    def callback(event):
        if event.type != "memory.stored" or event.memory.content != "outer":
            return
        mid = event.memory_id
        m = engine.get(mid)
        seen.append(("get", m.content))
        token = engine.subscribe(extra.append)
        seen.append(("subscribe", "ran"))
        seen.append(("store", engine.store("nested words here")))
        seen.append(("recall", [h.content for h in engine.recall("nested words", k=1)]))
        seen.append(("update", engine.update(mid, importance=0.9).importance))
        seen.append(("history", [h.event for h in engine.history(mid)]))
        seen.append(("stats", engine.stats()["memories"]))
        engine.unsubscribe(token)
        seen.append(("unsubscribe", "ran"))
        try:
            engine.close()
            seen.append(("close", "ran"))
        except strata.Conflict as e:
            seen.append(("close", "conflict" if "inside an event callback" in str(e) else str(e)))

    engine.subscribe(callback)
    mid = engine.store("outer")
    nested = seen[2][1]
    assert seen == [
        ("get", "outer"),
        ("subscribe", "ran"),
        ("store", nested),
        ("recall", ["nested words here"]),
        ("update", 0.9),
        ("history", ["ADD", "UPDATE"]),
        ("stats", 2),
        ("unsubscribe", "ran"),
        ("close", "conflict"),
    ]
    assert nested != mid
    # The nested subscription saw the events caused inside the callback, delivered after it
    # returned, and nothing after unsubscribe.
    assert not engine.closed and engine.stats()["memories"] == 2
    engine.store("later")
    assert all(e.memory.content != "later" for e in extra)


def test_callback_of_another_engine_may_write_to_this_one(engine):
    with strata.Engine() as mirror:
        engine.subscribe(lambda e: mirror.store(e.memory.content) if e.type == "memory.stored" else None)
        engine.store("copied across")
        assert [h.content for h in mirror.recall("copied", k=1)] == ["copied across"]


def test_events_from_other_threads(engine):
    events: list[tuple[str, int]] = []
    lock = threading.Lock()

    def callback(e):
        with lock:
            events.append((e.memory_id, threading.get_ident()))

    engine.subscribe(callback)
    idents = {}

    def work(i):
        idents[engine.store(f"thread {i} says hello {'x' * i}")] = threading.get_ident()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(mid for mid, _ in events) == sorted(idents)
    # engine.h: a callback runs "on the thread that made the change (or on a thread still
    # delivering earlier events)", so under contention another storing thread may deliver it,
    # but never a thread that stored nothing.
    for _, ident in events:
        assert ident in idents.values()


def test_subscribe_needs_a_callable(engine):
    with pytest.raises(TypeError):
        engine.subscribe("not callable")  # type: ignore[arg-type]
