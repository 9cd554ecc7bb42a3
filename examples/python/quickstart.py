"""Strata from Python in one page.

Run from the repository root (after `swift build`):

    PYTHONPATH=bindings/python python3 examples/python/quickstart.py
"""

from __future__ import annotations

import os
import tempfile

import numpy as np

import strata


def show(title: str, hits: list[strata.Hit]) -> None:
    print(f"\n{title}")
    for hit in hits:
        s = hit.scores
        parts = ", ".join(
            f"{name}={s[name]:.3f}" if s[name] is not None else f"{name}=-"
            for name in ("vector", "keyword", "fused", "recency", "importance", "access")
        )
        print(f"  {hit.score:6.3f}  [{hit.scope or '/'}] {hit.content}")
        print(f"          {parts}")


def main() -> None:
    print(f"strata {strata.__version__} (ABI {strata.abi_version() >> 16}.{strata.abi_version() & 0xFFFF}) from {strata.library_path}")

    # None is the embedded default: in-memory store, hashing embedder (256-d), extractive
    # summarizer. A dict, a JSON string or a path to a JSON file configure it otherwise, e.g.
    # {"embedder": {"backend": "hashing", "options": {"dimension": 64}}}.
    with strata.Engine() as engine:
        events: list[str] = []
        engine.subscribe(lambda event: events.append(event.type))

        # Store a few memories in an agent tree: org/planner and org/travel are siblings.
        engine.store("Alice prefers green tea in the morning", {"user": "alice", "topic": "drinks"}, "org/planner")
        engine.store("Alice is allergic to peanuts", {"user": "alice", "topic": "health"}, "org/planner", visibility="shared", importance=0.9)
        engine.store("Bob drinks black coffee, no sugar", {"user": "bob", "topic": "drinks"}, "org/travel")
        engine.store("The office closes at 6pm on Fridays", {"topic": "office"}, "org", visibility="global")
        flight = engine.store("Alice's flight to Lisbon leaves Tuesday 9am", {"user": "alice", "topic": "travel"}, "org/travel")

        show("recall('what tea does alice like?')", engine.recall("what tea does alice like?", k=3))
        show("recall with a filter {'user': 'alice', 'topic': {'$ne': 'drinks'}}",
             engine.recall("alice", k=5, filter={"user": "alice", "topic": {"$ne": "drinks"}}))

        # Scoped recall: org/travel sees its own memories and GLOBAL ones, not org/planner's local tea.
        show("recall as scope 'org/travel'", engine.recall("alice", k=5, scope="org/travel"))
        # The parent 'org' also sees SHARED memories of its children.
        show("recall as scope 'org'", engine.recall("alice allergy", k=5, scope="org"))

        # Update, history, forget.
        engine.update(flight, content="Alice's flight to Lisbon moved to Wednesday 7am")
        engine.forget(flight)
        print("\nhistory of the flight memory:")
        for entry in engine.history(flight):
            print(f"  {entry.at:%H:%M:%S} {entry.event:<6} {(entry.new or entry.old).content!r}  ({entry.reason})")

        # Bring your own vectors: a [n, d] float32 array goes to the library without a copy.
        rng = np.random.default_rng(42)
        vectors = rng.standard_normal((100, engine.dimension)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        ids = engine.store_vectors(vectors, items=[{"content": f"vector #{i}", "metadata": {"i": i}} for i in range(100)])
        hits = engine.recall_vector(vectors[42], k=3)
        show("recall_vector(vectors[42])", hits)
        assert hits[0].id == ids[42]

        # Errors are exceptions carrying the status and the library's message.
        try:
            engine.recall("tea", filter={"user": {"$bogus": 1}})
        except strata.InvalidFilter as error:
            print(f"\n{type(error).__name__} ({error.status}): {error}")
        try:
            engine.store_vectors(np.ones((1, 3), np.float32))
        except strata.DimensionMismatch as error:
            print(f"{type(error).__name__} ({error.status}): {error}")

        stats = engine.stats()
        print(f"\n{stats['memories']} memories by scope {stats['by_scope']}")
        print(f"events seen: {len(events)} ({', '.join(sorted(set(events)))})")

    # A persistent store: a folder holding strata.json and strata.db (SQLite). The first open
    # writes the configuration there; reopening repeats nothing, the dimension included.
    with tempfile.TemporaryDirectory() as tmp:
        folder = os.path.join(tmp, "memories")
        config = {**strata.DEFAULT_STORE, "embedder": {"backend": "hashing", "options": {"dimension": 64}}}
        with strata.open(folder, config) as engine:
            engine.store("Alice prefers green tea", user_id="alice")          # Mem0's ids: metadata and scope
            engine.upsert("alice-flight", "Alice flies to Lisbon on Tuesday", user_id="alice")
            engine.upsert("alice-flight", "Alice flies to Lisbon on Wednesday", user_id="alice")  # replaced
        with strata.open(folder) as engine:
            print(f"\nreopened {os.path.basename(folder)}/: {engine.count(user_id='alice')} memories of alice, "
                  f"dimension {engine.dimension}")
            for memory in engine.get_all():
                print(f"  {memory.id:<26} [{memory.scope}] {memory.content}")
            latest = engine.recall(k=1, track_access=False)  # no query: the most recent and important
            print(f"  most recent: {latest[0].content!r}")


if __name__ == "__main__":
    main()
