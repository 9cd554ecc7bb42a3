"""PMM (docs/kernels.md, "PMM"): slots read by multi-head attention, a gated write into the
least-used slot, temporal decay of the slots and of their usage."""

from __future__ import annotations

import numpy as np

from . import entropy, linear, sigmoid, softmax

CONFIG = {"type": "pmm", "memory_dim": 32, "num_slots": 8, "num_heads": 4, "decay_rate": 0.95, "seed": 1}


def specs(config: dict) -> dict[str, tuple]:
    d = config["memory_dim"]
    return {
        "pmm.query.weight": (d, d), "pmm.query.bias": (d,),
        "pmm.key.weight": (d, d), "pmm.key.bias": (d,),
        "pmm.output.weight": (d, d), "pmm.output.bias": (d,),
        "pmm.write_gate.weight": (1, d), "pmm.write_gate.bias": (1,),
        "pmm.write_value.weight": (d, d), "pmm.write_value.bias": (d,),
    }


class Reference:
    def __init__(self, config: dict, weights: dict[str, np.ndarray]):
        self.d = config["memory_dim"]
        self.n = config.get("num_slots", 16)
        self.heads = config.get("num_heads", 4)
        self.gamma = float(np.float32(config.get("decay_rate", 0.99)))
        self.w = {k: v.astype(np.float64) for k, v in weights.items()}

    @property
    def state_size(self) -> int:
        return self.n * self.d + self.n

    def initial_state(self, batch: int) -> np.ndarray:
        return np.zeros((batch, self.state_size), dtype=np.float32)

    def step(self, state, hidden, done):
        d, n, H = self.d, self.n, self.heads
        E = d // H
        s = state.astype(np.float64).copy()
        if done is not None:
            s[np.asarray(done) != 0] = 0.0
        h = hidden.astype(np.float64)
        batch = s.shape[0]
        memory = s[:, : n * d].reshape(batch, n, d).copy()
        usage = s[:, n * d :].copy()

        # Read: per head, attention of the query over the slots' keys; values are the slots.
        q = linear(h, self.w, "pmm.query").reshape(batch, H, E)
        keys = linear(memory, self.w, "pmm.key").reshape(batch, n, H, E)
        values = memory.reshape(batch, n, H, E)
        scores = np.einsum("bke,bike->bki", q, keys) / np.sqrt(E)
        a = softmax(scores, axis=-1)  # [B, H, N]
        heads_read = np.einsum("bki,bike->bke", a, values)
        read = linear(heads_read.reshape(batch, d), self.w, "pmm.output")

        # Usage, eviction, decay, gated write.
        mean_a = a.mean(axis=1)  # [B, N]
        usage = self.gamma * usage + mean_a
        target = np.argmin(usage, axis=1)  # numpy takes the first minimum
        g = sigmoid(linear(h, self.w, "pmm.write_gate"))[:, 0]
        v = linear(h, self.w, "pmm.write_value")
        memory = self.gamma * memory
        rows = np.arange(batch)
        memory[rows, target] = (1 - g)[:, None] * memory[rows, target] + g[:, None] * v
        usage[rows, target] += g

        logs = np.stack([
            g,
            entropy(a, axis=-1).mean(axis=1),
            g * mean_a[rows, target],
            usage.mean(axis=1),
        ], axis=1)
        new = np.concatenate([memory.reshape(batch, -1), usage], axis=1)
        return read.astype(np.float32), new.astype(np.float32), logs.astype(np.float32)
