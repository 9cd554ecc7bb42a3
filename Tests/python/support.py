"""Constants and helpers shared by the Python binding tests (imported by conftest and the tests)."""

from __future__ import annotations

import strata

#: A small engine dimension for the vector tests.
DIM = 64
VECTOR_CONFIG = {"embedder": {"backend": "hashing", "options": {"dimension": DIM}}}

#: Memories stored by the `seeded` fixture: (content, metadata, scope).
SEED = [
    ("Alice prefers green tea in the morning", {"user": "alice", "n": 1, "tags": ["drink", "morning"], "profile": {"city": "Paris", "age": 31}}, "org/a"),
    ("Bob drinks black coffee every afternoon", {"user": "bob", "n": 2, "tags": ["drink"], "profile": {"city": "Berlin", "age": 45}}, "org/b"),
    ("Carol runs ten kilometres on Sundays", {"user": "carol", "n": 3, "tags": ["sport"], "profile": {"city": "Paris", "age": 27}}, "org/a"),
    ("Dave is allergic to peanuts and shellfish", {"user": "dave", "n": 4, "profile": {"city": "Rome", "age": 52}}, "org/c"),
    ("Erin plays the cello in an orchestra", {"user": "erin", "n": 5, "tags": ["music"], "flag": None}, "org/b"),
]


def assert_intact(engine: "strata.Engine", ids: dict[str, str]) -> None:
    """Every memory of `ids` is still there, unchanged in content, and nothing else appeared."""
    assert engine.stats()["memories"] == len(ids)
    by_user = {metadata["user"]: content for content, metadata, _ in SEED}
    for user, mid in ids.items():
        memory = engine.get(mid)
        assert memory.id == mid
        if user in by_user:
            assert memory.content == by_user[user]


def ids_of(hits) -> list[str]:
    return [h.id for h in hits]
