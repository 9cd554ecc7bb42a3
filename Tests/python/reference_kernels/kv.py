"""KV memory (docs/kernels.md, "KV"): key and value projections of hidden written at a circular
pointer, read by scaled dot-product attention of a query over the valid keys."""

from __future__ import annotations

import numpy as np

from . import entropy, linear, softmax

CONFIG = {"type": "kv", "memory_dim": 32, "num_slots": 8, "key_dim": 16, "seed": 1}


def _sizes(config: dict) -> tuple[int, int, int]:
    d = config["memory_dim"]
    return d, config.get("num_slots", 16), config.get("key_dim", d)


def specs(config: dict) -> dict[str, tuple]:
    d, _, k = _sizes(config)
    return {
        "kv.key.weight": (k, d), "kv.key.bias": (k,),
        "kv.value.weight": (d, d), "kv.value.bias": (d,),
        "kv.query.weight": (k, d), "kv.query.bias": (k,),
        "kv.output.weight": (d, d), "kv.output.bias": (d,),
    }


class Reference:
    def __init__(self, config: dict, weights: dict[str, np.ndarray]):
        self.d, self.n, self.k = _sizes(config)
        self.w = {name: v.astype(np.float64) for name, v in weights.items()}

    @property
    def state_size(self) -> int:
        return self.n * self.k + self.n * self.d + self.n + 1

    def initial_state(self, batch: int) -> np.ndarray:
        return np.zeros((batch, self.state_size), dtype=np.float32)

    def step(self, state, hidden, done):
        d, n, kd = self.d, self.n, self.k
        s = state.astype(np.float64).copy()
        if done is not None:
            s[np.asarray(done) != 0] = 0.0
        h = hidden.astype(np.float64)
        batch = s.shape[0]
        rows = np.arange(batch)
        keys = s[:, : n * kd].reshape(batch, n, kd)
        values = s[:, n * kd : n * kd + n * d].reshape(batch, n, d)
        valid = s[:, n * kd + n * d : n * kd + n * d + n]
        pointer = s[:, -1].astype(int)

        k = linear(h, self.w, "kv.key")
        v = linear(h, self.w, "kv.value")
        q = linear(h, self.w, "kv.query")

        # Before the write: the query's weight on the pair about to be evicted.
        evicted = valid[rows, pointer] != 0
        conflict = np.zeros(batch)
        if evicted.any():
            before = np.einsum("bk,bnk->bn", q, keys) / np.sqrt(kd)
            before = np.where(valid != 0, before, -np.inf)
            before = softmax(np.where(evicted[:, None], before, 0.0))
            conflict = np.where(evicted, before[rows, pointer], 0.0)

        keys[rows, pointer] = k
        values[rows, pointer] = v
        valid[rows, pointer] = 1.0
        s[:, -1] = (pointer + 1) % n

        scores = np.einsum("bk,bnk->bn", q, keys) / np.sqrt(kd)
        a = softmax(np.where(valid != 0, scores, -np.inf))
        read = linear(np.einsum("bn,bnd->bd", a, values), self.w, "kv.output")
        logs = np.stack([np.ones(batch), entropy(a), conflict, valid.mean(axis=1)], axis=1)
        return read.astype(np.float32), s.astype(np.float32), logs.astype(np.float32)
