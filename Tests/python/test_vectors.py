"""The numpy vector path: strata_engine_store_vectors and strata_engine_recall_vector."""

from __future__ import annotations

import numpy as np
import pytest

import strata
import strata.engine as strata_engine
from support import DIM, ids_of


def unit_vectors(n: int, dim: int = DIM, seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    v = rng.standard_normal((n, dim)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return v


@pytest.fixture
def stored(vengine):
    vectors = unit_vectors(100)
    ids = vengine.store_vectors(vectors)
    return vengine, vectors, ids


def test_engine_dimension(vengine):
    assert vengine.stats()["dimension"] == DIM


def test_store_100_unit_vectors_and_recall_each_first(stored):
    engine, vectors, ids = stored
    assert len(ids) == 100 and len(set(ids)) == 100
    assert engine.stats()["memories"] == 100
    for i in (0, 17, 42, 99):
        hits = engine.recall_vector(vectors[i], k=5)
        assert hits[0].id == ids[i]
        assert hits[0].scores["vector"] == pytest.approx(1.0, abs=1e-5)
        assert hits[0].scores["keyword"] is None  # no query text: no keyword search
        assert all(h.scores["vector"] < 0.9 for h in hits[1:])


def test_recall_vector_accepts_a_row_of_shape_1_by_d_and_a_list(stored):
    engine, vectors, ids = stored
    assert engine.recall_vector(vectors[3:4], k=1)[0].id == ids[3]
    assert engine.recall_vector(vectors[5].tolist(), k=1)[0].id == ids[5]


def test_contiguous_float32_is_passed_without_copy(vengine, monkeypatch):
    seen = []
    real = strata_engine.ffi.from_buffer

    def spy(cdecl, buffer, *args, **kwargs):
        seen.append(buffer)
        return real(cdecl, buffer, *args, **kwargs)

    monkeypatch.setattr(strata_engine.ffi, "from_buffer", spy)
    vectors = unit_vectors(4)
    vengine.store_vectors(vectors)
    assert seen[-1] is vectors
    query = vectors[1]  # a C-contiguous row view
    vengine.recall_vector(query, k=1)
    assert np.shares_memory(seen[-1], vectors)
    # Read-only memory works too, still without a copy.
    frozen = unit_vectors(2, seed=99)
    frozen.setflags(write=False)
    vengine.store_vectors(frozen)
    assert seen[-1] is frozen


def test_non_contiguous_and_float64_arrays_are_converted(vengine, monkeypatch):
    seen = []
    real = strata_engine.ffi.from_buffer
    monkeypatch.setattr(strata_engine.ffi, "from_buffer", lambda c, b, *a, **k: (seen.append(b), real(c, b, *a, **k))[1])

    wide = unit_vectors(10, dim=2 * DIM, seed=3)
    strided = wide[:, ::2]  # shape (10, DIM), not contiguous
    assert not strided.flags.c_contiguous
    ids_strided = vengine.store_vectors(strided, items=[f"strided {i}" for i in range(10)])
    assert seen[-1] is not strided and seen[-1].flags.c_contiguous and seen[-1].dtype == np.float32

    doubles = unit_vectors(10, seed=4).astype(np.float64)
    ids_doubles = vengine.store_vectors(doubles)
    assert seen[-1].dtype == np.float32

    fortran = np.asfortranarray(unit_vectors(10, seed=5))
    ids_fortran = vengine.store_vectors(fortran)

    big_endian = unit_vectors(3, seed=6).astype(">f4")
    ids_be = vengine.store_vectors(big_endian)

    assert vengine.stats()["memories"] == 33
    # The converted copies hold the same numbers: each vector finds itself.
    assert vengine.recall_vector(strided[4], k=1)[0].id == ids_strided[4]
    # (cosine metric: a vector matches its own stored copy with score 1 whatever its norm)
    assert vengine.recall_vector(np.ascontiguousarray(strided[4]), k=1)[0].scores["vector"] == pytest.approx(1.0, abs=1e-5)
    assert vengine.recall_vector(doubles[7], k=1)[0].id == ids_doubles[7]
    assert vengine.recall_vector(fortran[2], k=1)[0].id == ids_fortran[2]
    assert vengine.recall_vector(big_endian[1], k=1)[0].id == ids_be[1]


def test_one_dimensional_array_is_one_vector(vengine):
    v = unit_vectors(1)[0]
    ids = vengine.store_vectors(v, items=[{"content": "single", "metadata": {"kind": "one"}}])
    assert len(ids) == 1
    m = vengine.get(ids[0])
    assert (m.content, m.metadata) == ("single", {"kind": "one"})


def test_items_carry_content_metadata_and_scope(vengine):
    vectors = unit_vectors(3, seed=11)
    items = [
        {"content": "red apple", "metadata": {"color": "red"}, "scope": "fruit"},
        "plain string item",
        {"content": "green pear", "metadata": {"color": "green"}, "scope": "fruit", "visibility": "global"},
    ]
    ids = vengine.store_vectors(vectors, items)
    assert vengine.get(ids[1]).content == "plain string item"
    # A filter restricts vector recall.
    hits = vengine.recall_vector(vectors[0], k=10, filter={"color": "green"})
    assert ids_of(hits) == [ids[2]]
    # Scope restricts it too: from a sibling only the global pear is visible.
    assert ids_of(vengine.recall_vector(vectors[0], k=10, scope="vegetables")) == [ids[2]]
    # With query text, keyword search joins in.
    hits = vengine.recall_vector(vectors[1], k=3, query="apple")
    apple = next(h for h in hits if h.id == ids[0])
    assert apple.scores["keyword"] is not None and apple.scores["keyword"] > 0
    own = next(h for h in hits if h.id == ids[1])
    assert own.scores["vector"] == pytest.approx(1.0, abs=1e-5) and own.scores["keyword"] is None
    assert ids_of(hits)[:2] in ([ids[0], ids[1]], [ids[1], ids[0]])


def test_items_count_must_match_vectors(vengine):
    with pytest.raises(strata.InvalidArgument, match="count is 3"):
        vengine.store_vectors(unit_vectors(3), items=["only one"])
    assert vengine.stats()["memories"] == 0


def test_wrong_dimension_names_both(stored):
    engine, _, _ = stored
    with pytest.raises(strata.DimensionMismatch) as info:
        engine.store_vectors(unit_vectors(2, dim=32))
    message = str(info.value)
    assert "32" in message and str(DIM) in message
    assert info.value.code == -7 and info.value.status == "STRATA_ERR_DIMENSION"
    assert isinstance(info.value, strata.InvalidArgument) and isinstance(info.value, ValueError)
    with pytest.raises(strata.DimensionMismatch, match=r"\b48\b"):
        engine.recall_vector(unit_vectors(1, dim=48)[0])
    assert engine.stats()["memories"] == 100


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_vector_is_refused_and_nothing_is_stored(stored, bad):
    engine, vectors, ids = stored
    batch = unit_vectors(5, seed=21)
    batch[3, 10] = bad
    with pytest.raises(strata.InvalidVector) as info:
        engine.store_vectors(batch)
    assert "3" in str(info.value) and "10" in str(info.value)  # names the vector and the position
    assert engine.stats()["memories"] == 100
    query = vectors[0].copy()
    query[5] = bad
    with pytest.raises(strata.InvalidVector):
        engine.recall_vector(query)
    assert engine.recall_vector(vectors[0], k=1)[0].id == ids[0]


def test_shape_errors_are_caught_in_python(vengine):
    with pytest.raises(strata.InvalidArgument, match="shape"):
        vengine.store_vectors(np.zeros((2, 2, DIM), np.float32))
    with pytest.raises(strata.InvalidArgument, match="shape"):
        vengine.recall_vector(unit_vectors(2))
    with pytest.raises(TypeError):
        vengine.store_vectors(np.ones((1, DIM), np.complex64))
    with pytest.raises(TypeError):
        vengine.store_vectors(np.array([["a"] * DIM]))


def test_empty_batch_is_refused_by_the_engine(vengine):
    with pytest.raises(strata.InvalidArgument, match="count"):
        vengine.store_vectors(np.zeros((0, DIM), np.float32))
