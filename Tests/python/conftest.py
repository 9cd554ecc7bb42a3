"""Shared fixtures for the Python binding tests.

Run from the repository root:  PYTHONPATH=bindings/python python3 -m pytest Tests/python -q
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
BINDINGS = REPO / "bindings" / "python"
for folder in (BINDINGS, HERE):  # works without PYTHONPATH too; HERE holds support.py
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

import strata  # noqa: E402
from support import DIM, SEED, VECTOR_CONFIG  # noqa: E402,F401


@pytest.fixture
def engine():
    """An engine with the embedded default configuration, closed after the test."""
    with strata.Engine() as e:
        yield e


@pytest.fixture
def vengine():
    """An engine whose hashing embedder (and so store) has dimension DIM."""
    with strata.Engine(VECTOR_CONFIG) as e:
        yield e


@pytest.fixture
def seeded(engine):
    """The default engine holding SEED; yields (engine, {user: id})."""
    ids = {}
    for content, metadata, scope in SEED:
        ids[metadata["user"]] = engine.store(content, metadata, scope)
    assert len(set(ids.values())) == len(SEED)
    return engine, ids
