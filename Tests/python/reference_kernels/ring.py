"""Ring memory (docs/kernels.md, "Ring"): a circular buffer of the last N hidden states read
by attention."""

from __future__ import annotations

import numpy as np

from . import entropy, linear, softmax

CONFIG = {"type": "ring", "memory_dim": 16, "buffer_size": 5, "seed": 1}


def specs(config: dict) -> dict[str, tuple]:
    d = config["memory_dim"]
    return {"ring.query.weight": (d, d), "ring.query.bias": (d,), "ring.output.weight": (d, d), "ring.output.bias": (d,)}


class Reference:
    def __init__(self, config: dict, weights: dict[str, np.ndarray]):
        self.d = config["memory_dim"]
        self.n = config.get("buffer_size", config.get("num_slots", 16))
        self.w = {k: v.astype(np.float64) for k, v in weights.items()}

    @property
    def state_size(self) -> int:
        return self.n * self.d + self.n + 1

    def initial_state(self, batch: int) -> np.ndarray:
        return np.zeros((batch, self.state_size), dtype=np.float32)

    def step(self, state, hidden, done):
        d, n = self.d, self.n
        s = state.astype(np.float64).copy()
        if done is not None:
            s[np.asarray(done) != 0] = 0.0
        h = hidden.astype(np.float64)
        batch = s.shape[0]
        buffer = s[:, : n * d].reshape(batch, n, d)
        valid = s[:, n * d : n * d + n]
        pointer = s[:, -1].astype(int)
        rows = np.arange(batch)
        buffer[rows, pointer] = h
        valid[rows, pointer] = 1.0
        q = linear(h, self.w, "ring.query")
        scores = np.einsum("bd,bnd->bn", q, buffer) / np.sqrt(d)
        scores = np.where(valid != 0, scores, -np.inf)
        a = softmax(scores)
        mixed = np.einsum("bn,bnd->bd", a, buffer)
        read = linear(mixed, self.w, "ring.output")
        logs = np.stack([np.ones(batch), entropy(a), a[rows, pointer], valid.mean(axis=1)], axis=1)
        new = np.concatenate([buffer.reshape(batch, -1), valid, ((pointer + 1) % n)[:, None]], axis=1)
        return read.astype(np.float32), new.astype(np.float32), logs.astype(np.float32)
