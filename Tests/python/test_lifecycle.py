"""metabolize through the Python package: a week of memories on a SQLite store, the report,
the history it leaves, the ledger in stats (seen by a second engine), dry runs and errors."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

import strata

START = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def metabolic(path) -> dict:
    return {
        "store": {"backend": "sqlite", "plugin": "sqlite", "options": {"path": str(path)}},
        "tiers": [
            {"name": "working", "retention_hours": 1, "capacity": 10, "recall": "always",
             "promote": {"min_access_count": 2}, "keep": {"min_importance": 0.5}},
            {"name": "session", "retention_hours": 24, "capacity": 50},
            {"name": "episodic", "retention_hours": 168, "capacity": 200},
            {"name": "semantic", "compression": "summary"},
        ],
        "defaults": {"tier": "working"},
        "lifecycle": {"consolidation": {"from_tier": "session", "min_memories": 2}},
        "dedupe": {"enabled": False},
    }


def add_week(engine: strata.Engine) -> list[str]:
    ids = []
    for day in range(7):
        at = START + timedelta(days=day)
        ids.append(engine.store(f"Day {day} standup: release {day} is blocked on ticket {day * 7}.", scope="team",
                                importance=0.7, at=at))
        ids.append(engine.store(f"Day {day}: lunch was fine", scope="team", importance=0.3, at=at + timedelta(hours=3)))
        ids.append(engine.store(f"Day {day} decision: ship build {100 + day} after QA.", scope="team", importance=0.8,
                                at=at + timedelta(hours=6)))
    return ids


def test_a_week_metabolized_on_sqlite(tmp_path):
    db = tmp_path / "agent.db"
    with strata.Engine(metabolic(db)) as engine:
        ids = add_week(engine)
        now = START + timedelta(days=7, hours=9)
        dry = engine.metabolize(now=now, dry_run=True)
        assert engine.stats()["memories"] == 21, "a dry run changes nothing"
        report = engine.metabolize(now=now)
        assert report["dry_run"] is False and report["before"] == 21
        assert report["pruned"] == dry["pruned"] == {"age": 7, "relevance": 0, "redundancy": 0, "capacity": 0}
        assert report["consolidated"] == 7 and report["consolidated_sources"] == 14
        assert report["after"] == engine.stats()["memories"] == 7
        assert {m["action"] for m in report["moves"]} == {"prune", "consolidate", "create"}
        lunch = engine.history(ids[1])[-1]
        assert lunch.event == "DELETE" and "keep rule" in lunch.reason
        assert engine.metabolize(now=now)["moves"] == [], "a second cycle at the same time finds nothing to do"

    # The ledger lives in the store: another engine on the same file reports the totals.
    with strata.Engine(metabolic(db)) as again:
        stats = again.stats()
        assert stats["lifecycle"]["cycles"] == 2
        assert stats["lifecycle"]["pruned"]["age"] == 7
        assert stats["lifecycle"]["consolidated"] == 7
        assert stats["by_category"] == {"episodes": 7}
        assert stats["access"]["never"] == 7
        ledger = again.history("strata:lifecycle")
        assert len(ledger) == 2


def test_metabolize_events_and_summary_only(tmp_path):
    with strata.Engine(metabolic(tmp_path / "e.db")) as engine:
        add_week(engine)
        events: list[dict] = []
        engine.subscribe(events.append)
        report = engine.metabolize(now=START + timedelta(days=8), moves=False)
        assert "moves" not in report
        kinds = {e.type for e in events}
        assert {"memory.pruned", "memory.stored", "lifecycle.metabolized"} <= kinds


def test_bad_metabolize_requests_raise(tmp_path):
    with strata.Engine() as engine:
        with pytest.raises(strata.InvalidArgument, match="not an ISO-8601 time"):
            engine.metabolize(now="next tuesday")
        report = engine.metabolize()
        assert report["before"] == 0 and report["errors"] == []
    with pytest.raises(strata.InvalidConfig, match="lifecycle.consolidation.from_tier names tier"):
        strata.Engine({"lifecycle": {"consolidation": {"from_tier": "session"}}})


def test_times_with_microseconds_are_accepted(engine):
    # datetime.isoformat() writes microseconds; they once crashed the library.
    at = datetime(2026, 3, 2, 9, 0, 0, 123456, tzinfo=timezone.utc)
    mid = engine.store("a precise moment", at=at)
    assert engine.get(mid).created_at == datetime(2026, 3, 2, 9, 0, 0, 123000, tzinfo=timezone.utc)
    report = engine.metabolize(now="2026-03-02T10:00:00.999999+00:00", dry_run=True)
    assert report["at"] == "2026-03-02T10:00:00.999Z"
