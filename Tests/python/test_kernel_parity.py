"""Every memory kernel against its numpy reference (Tests/python/reference_kernels/): the same
weights from one safetensors file, the same inputs, 100 steps with resets, through
libstrata.so and libstrata-tensor.so. Each side carries its own state for the whole run (the
reference in float64), so differences compound as they would in a training loop; the reads,
the states and the logs must agree to 1e-5 at every step."""

from __future__ import annotations

import importlib
import pkgutil

import numpy as np
import pytest

import reference_kernels
import strata
from reference_kernels import LOGS, random_weights, save_safetensors

TOLERANCE = 1e-5
KINDS = sorted(m.name for m in pkgutil.iter_modules(reference_kernels.__path__))


def reference(kind):
    return importlib.import_module(f"reference_kernels.{kind}")


@pytest.mark.parametrize("kind", KINDS)
def test_the_kernel_matches_its_numpy_reference_for_100_steps_with_resets(kind, tmp_path):
    module = reference(kind)
    config = dict(module.CONFIG)
    weights = random_weights(module.specs(config), seed=7)
    path = tmp_path / f"{kind}.safetensors"
    save_safetensors(path, weights)
    ref = module.Reference(config, weights)
    batch, steps = 4, 100
    rng = np.random.default_rng(11)
    with strata.Kernel({**config, "weights": str(path)}) as kernel:
        assert kernel.log_names == LOGS
        assert kernel.parameter_count == sum(int(np.prod(s)) for s in module.specs(config).values())
        state = kernel.initial_state(batch)
        expected_state = ref.initial_state(batch)
        np.testing.assert_array_equal(state, expected_state)
        worst = {"read": 0.0, "state": 0.0, "logs": 0.0}
        for t in range(steps):
            hidden = rng.standard_normal((batch, config["memory_dim"])).astype(np.float32)
            done = (rng.random(batch) < 0.05).astype(np.float32) if t > 0 else None
            read, state, logs = kernel.step(state, hidden, done)
            expected_read, expected_state, expected_logs = ref.step(expected_state, hidden, done)
            got_logs = np.stack([logs[name] for name in LOGS], axis=1)
            for what, got, want in (("read", read, expected_read), ("state", state, expected_state), ("logs", got_logs, expected_logs)):
                diff = float(np.max(np.abs(got.astype(np.float64) - want.astype(np.float64))))
                worst[what] = max(worst[what], diff)
                assert diff <= TOLERANCE, f"{kind} step {t}: {what} differs by {diff:.3g}"
        print(f"{kind}: worst absolute difference {worst}")


@pytest.mark.parametrize("kind", KINDS)
def test_sequence_equals_the_same_steps_one_at_a_time(kind):
    config = dict(reference(kind).CONFIG)
    rng = np.random.default_rng(3)
    steps, batch = 12, 3
    hidden = rng.standard_normal((steps, batch, config["memory_dim"])).astype(np.float32)
    masks = (rng.random((steps, batch)) < 0.2).astype(np.float32)
    with strata.Kernel(config) as kernel:
        one = kernel.initial_state(batch)
        reads = []
        for t in range(steps):
            read, one, _ = kernel.step(one, hidden[t], masks[t])
            reads.append(read)
        seq = kernel.initial_state(batch)
        read_seq, seq, logs = kernel.sequence(seq, hidden, masks)
        np.testing.assert_array_equal(read_seq, np.stack(reads))
        np.testing.assert_array_equal(seq, one)
        assert logs["usage_mean"].shape == (steps, batch)
