"""Slot memory (docs/kernels.md, "Slot"): slots addressed by a learned softmax, read as their
weighted sum, each moved toward a write value by the gate times its address weight."""

from __future__ import annotations

import numpy as np

from . import entropy, linear, sigmoid, softmax

CONFIG = {"type": "slot", "memory_dim": 32, "num_slots": 8, "seed": 1}


def specs(config: dict) -> dict[str, tuple]:
    d, n = config["memory_dim"], config.get("num_slots", 8)
    return {
        "slot.address.weight": (n, d), "slot.address.bias": (n,),
        "slot.output.weight": (d, d), "slot.output.bias": (d,),
        "slot.write_gate.weight": (1, d), "slot.write_gate.bias": (1,),
        "slot.write_value.weight": (d, d), "slot.write_value.bias": (d,),
    }


class Reference:
    def __init__(self, config: dict, weights: dict[str, np.ndarray]):
        self.d = config["memory_dim"]
        self.n = config.get("num_slots", 8)
        self.w = {k: v.astype(np.float64) for k, v in weights.items()}

    @property
    def state_size(self) -> int:
        return self.n * self.d + self.n

    def initial_state(self, batch: int) -> np.ndarray:
        return np.zeros((batch, self.state_size), dtype=np.float32)

    def step(self, state, hidden, done):
        d, n = self.d, self.n
        s = state.astype(np.float64).copy()
        if done is not None:
            s[np.asarray(done) != 0] = 0.0
        h = hidden.astype(np.float64)
        batch = s.shape[0]
        slots = s[:, : n * d].reshape(batch, n, d)
        fill = s[:, n * d :]

        c = softmax(linear(h, self.w, "slot.address"), axis=-1)  # [B, N]
        read = linear(np.einsum("bi,bid->bd", c, slots), self.w, "slot.output")

        g = sigmoid(linear(h, self.w, "slot.write_gate"))[:, 0]
        v = linear(h, self.w, "slot.write_value")
        alpha = g[:, None] * c  # [B, N]
        new_slots = (1 - alpha)[:, :, None] * slots + alpha[:, :, None] * v[:, None, :]
        new_fill = (1 - alpha) * fill + alpha

        logs = np.stack([g, entropy(c, axis=-1), g * np.sum(c * c, axis=1), new_fill.mean(axis=1)], axis=1)
        new = np.concatenate([new_slots.reshape(batch, -1), new_fill], axis=1)
        return read.astype(np.float32), new.astype(np.float32), logs.astype(np.float32)
