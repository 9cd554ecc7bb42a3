"""strata.Kernel: the Python face of the memory kernels (numpy in, numpy out, state in place)."""

from __future__ import annotations

import numpy as np
import pytest

import strata

RING = {"type": "ring", "memory_dim": 8, "buffer_size": 4, "seed": 5}


def test_step_updates_the_callers_state_in_place_and_returns_named_logs():
    with strata.Kernel(RING) as k:
        assert (k.type, k.dimension, k.state_size, k.parameter_count) == ("ring", 8, 37, 144)
        state = k.initial_state(2)
        before = state.__array_interface__["data"][0]
        read, returned, logs = k.step(state, np.ones((2, 8)), np.array([0, 1]))
        assert returned is state and state.__array_interface__["data"][0] == before, "no copy of the state"
        assert read.shape == (2, 8) and read.dtype == np.float32
        assert list(logs) == ["write_strength", "read_entropy", "overwrite_conflict", "usage_mean"]
        assert logs["usage_mean"].tolist() == [0.25, 0.25]
        reads, state, logs = k.sequence(state, np.zeros((3, 2, 8), dtype=np.float32))
        assert reads.shape == (3, 2, 8) and logs["write_strength"].shape == (3, 2)
        k.reset(state, np.array([1, 0]))
        assert not state[1].any() and state[0].any()


def test_bad_arrays_and_configs_raise_naming_the_culprit():
    with pytest.raises(strata.InvalidConfig, match="colour"):
        strata.Kernel({**RING, "colour": 1})
    with pytest.raises(strata.InvalidConfig, match="memory_dim"):
        strata.Kernel({"type": "ring"})
    with strata.Kernel(RING) as k:
        state = k.initial_state(2)
        with pytest.raises(ValueError, match=r"hidden has shape \(2, 7\), expected \(2, 8\)"):
            k.step(state, np.ones((2, 7)))
        with pytest.raises(TypeError, match="updated in place"):
            k.step(state.astype(np.float64), np.ones((2, 8)))
        with pytest.raises(ValueError, match="batch must be at least 1"):
            k.initial_state(0)
    with pytest.raises(strata.EngineClosed):
        k.initial_state(1)


def test_states_and_weights_go_to_files_and_come_back(tmp_path):
    with strata.Kernel(RING) as k:
        state = k.initial_state(3)
        k.step(state, np.random.default_rng(0).standard_normal((3, 8)))
        k.save_state(tmp_path / "s.safetensors", state)
        np.testing.assert_array_equal(k.load_state(tmp_path / "s.safetensors", 3), state)
        with pytest.raises(strata.DimensionMismatch, match=r"shape \[3, 37\]"):
            k.load_state(tmp_path / "s.safetensors", 2)
        k.save_weights(tmp_path / "w.safetensors")
        hidden = np.ones((3, 8), dtype=np.float32)
        a = k.step(k.initial_state(3), hidden)[0]
    with strata.Kernel({**RING, "seed": 99, "weights": str(tmp_path / "w.safetensors")}) as same:
        np.testing.assert_array_equal(same.step(same.initial_state(3), hidden)[0], a)
    (tmp_path / "bad.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all}")
    with pytest.raises(strata.CorruptStore, match="bad.safetensors"):
        strata.Kernel({**RING, "weights": str(tmp_path / "bad.safetensors")})


def test_a_working_kernel_over_the_stored_stream_adds_a_kernel_score_part(tmp_path):
    from reference_kernels import save_safetensors

    d = 16
    eye = {"ring.query.weight": np.eye(d, dtype=np.float32), "ring.query.bias": np.zeros(d, np.float32),
           "ring.output.weight": np.eye(d, dtype=np.float32), "ring.output.bias": np.zeros(d, np.float32)}
    save_safetensors(tmp_path / "ring.safetensors", eye)
    base = {"embedder": {"backend": "hashing", "options": {"dimension": d}}, "dedupe": {"enabled": False},
            "recall": {"track_access": False}}
    working = {**base, "working_kernel": {"weight": 0.5, "options": {"type": "ring", "buffer_size": 4,
                                                                       "weights": str(tmp_path / "ring.safetensors")}}}
    a, b = np.eye(d, dtype=np.float32)[0], np.eye(d, dtype=np.float32)[1]
    query = (a + b) / np.sqrt(2)
    for config, expect_kernel in ((base, False), (working, True)):
        with strata.Engine(config) as engine:
            ids = engine.store_vectors(np.stack([a, b]), [{"category": "fact"}, {"category": "fact"}])
            # The recent stream is about `a`: three observations near it.
            near_a = np.stack([a + 0.1 * np.eye(d, dtype=np.float32)[5 + i] for i in range(3)])
            engine.store_vectors(near_a / np.linalg.norm(near_a, axis=1, keepdims=True), [{"category": "ctx"}] * 3)
            hits = engine.recall_vector(query, k=2, category="fact")
            assert ("kernel" in hits[0].scores) == expect_kernel
            if expect_kernel:
                assert hits[0].id == ids[0], "the working memory of `a` breaks the tie"
                assert hits[0].scores["kernel"] > hits[1].scores["kernel"]
    with pytest.raises(strata.InvalidConfig, match="working_kernel.options.type"):
        strata.Engine({"working_kernel": {"options": {}}})
    with pytest.raises(strata.InvalidConfig, match="the kernel reads 8 floats, the embedder makes 256"):
        strata.Engine({"working_kernel": {"options": {"type": "ring", "memory_dim": 8}}})


def test_step_can_write_into_the_callers_arrays():
    with strata.Kernel(RING) as k:
        state = k.initial_state(2)
        read_out = np.zeros((2, 8), dtype=np.float32)
        logs_out = np.zeros((2, 4), dtype=np.float32)
        read, _, logs = k.step(state, np.ones((2, 8)), out=(read_out, logs_out))
        assert read is read_out and read_out.any()
        assert logs["write_strength"].base is logs_out and logs_out[:, 0].tolist() == [1.0, 1.0]
        with pytest.raises(TypeError, match="out\\[0\\]"):
            k.step(state, np.ones((2, 8)), out=(np.zeros((2, 8)), logs_out))


def test_sequence_can_write_into_the_callers_arrays():
    with strata.Kernel(RING) as k:
        hidden = np.random.default_rng(2).standard_normal((3, 2, 8)).astype(np.float32)
        expected, _, expected_logs = k.sequence(k.initial_state(2), hidden)
        state = k.initial_state(2)
        read_out = np.zeros((3, 2, 8), dtype=np.float32)
        logs_out = np.zeros((3, 2, 4), dtype=np.float32)
        read, _, logs = k.sequence(state, hidden, out=(read_out, logs_out))
        assert read is read_out
        np.testing.assert_array_equal(read_out, expected)
        np.testing.assert_array_equal(logs["read_entropy"], expected_logs["read_entropy"])
        assert logs["read_entropy"].base is logs_out
        with pytest.raises(ValueError, match="out\\[1\\] \\(logs\\) has shape"):
            k.sequence(state, hidden, out=(read_out, np.zeros((3, 2, 3), dtype=np.float32)))
