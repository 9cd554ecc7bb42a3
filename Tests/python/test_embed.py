"""Engine.embed: the engine's embedder as a float32 array, and its bad inputs."""

from __future__ import annotations

import numpy as np
import pytest

import strata
from strata._ffi import EMBED_MAX_TEXTS

MINILM = {"embedder": {"backend": "minilm", "plugin": "minilm"}}


def test_embed_answers_one_float32_row_per_text(engine):
    rows = engine.embed(["Alice prefers green tea", "", "Bob is allergic to peanuts"])
    assert isinstance(rows, np.ndarray) and rows.dtype == np.float32
    assert rows.shape == (3, engine.dimension) == (3, 256)
    assert rows.flags.c_contiguous
    assert np.all(np.isfinite(rows))
    # The hashing embedder is L2-normalised; the empty text has no features.
    assert np.allclose(np.linalg.norm(rows[[0, 2]], axis=1), 1.0, atol=1e-5)


def test_embed_gives_the_vectors_store_and_recall_use(engine):
    content = "Carol leads the search team"
    rows = engine.embed([content, "who leads search?"])
    mid = engine.store_vectors(rows[:1], [content])[0]
    hit = engine.recall_vector(rows[0], k=1)[0]
    assert hit.id == mid and hit.scores["vector"] == pytest.approx(1.0, abs=1e-5)
    # Stored through the normal path, the same text gets the same vector: a recall by text
    # scores it exactly as a recall by the vector embed gave.
    other = engine.store("Dave works from Lisbon")
    by_text = {h.id: h.scores["vector"] for h in engine.recall("who leads search?", k=5)}
    by_vector = {h.id: h.scores["vector"] for h in engine.recall_vector(rows[1], k=5)}
    assert by_text[mid] == pytest.approx(by_vector[mid], abs=1e-6)
    assert other in by_text


def test_embed_of_nothing_is_an_empty_array(engine):
    rows = engine.embed([])
    assert rows.shape == (0, 256) and rows.dtype == np.float32


def test_embed_takes_any_iterable_and_bytes(engine):
    a = engine.embed(iter(["same text"]))
    b = engine.embed([b"same text"])
    assert np.array_equal(a, b)


def test_embed_refuses_a_bare_str(engine):
    with pytest.raises(TypeError, match="sequence of str"):
        engine.embed("one text")


def test_embed_refuses_a_non_text_item(engine):
    with pytest.raises(TypeError, match="text 1 must be a str"):
        engine.embed(["fine", 42])


def test_embed_refuses_NUL_naming_the_text_and_offset(engine):
    with pytest.raises(strata.InvalidArgument, match=r"text 1 holds a NUL character .* byte offset 3"):
        engine.embed(["fine", "bad\x00tail"])


def test_embed_refuses_invalid_utf8_naming_the_text(engine):
    with pytest.raises(strata.InvalidUTF8, match=r"text 1 is not valid UTF-8 \(first bad byte at offset 4\)"):
        engine.embed(["fine", b"bad \xff byte"])
    with pytest.raises(strata.InvalidUTF8, match="text 0"):
        engine.embed(["lone \ud800 surrogate"])


def test_embed_refuses_more_than_the_limit(engine):
    with pytest.raises(strata.InvalidArgument, match=f"at most {EMBED_MAX_TEXTS} texts"):
        engine.embed([""] * (EMBED_MAX_TEXTS + 1))


def test_embed_on_a_closed_engine_raises_EngineClosed():
    e = strata.Engine()
    e.close()
    with pytest.raises(strata.EngineClosed):
        e.embed(["x"])


def test_embed_with_minilm_puts_a_paraphrase_nearest():
    with strata.Engine(MINILM) as e:
        rows = e.embed([
            "Alice prefers a window seat when she flies long distances",
            "Alice prefers green tea over coffee in the morning",
            "Where does Alice like to sit on a plane?",
        ])
        assert rows.shape == (3, 384) and e.dimension == 384
        assert np.allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-5)
        seat, tea, question = rows
        assert question @ seat > question @ tea + 0.1
