"""Fractal memory (docs/kernels.md, "Fractal"): levels of shrinking width, each an encoder, an
LSTM cell and a persistence-gated memory feeding the next level; the read is the mean of the
levels' decoded memories."""

from __future__ import annotations

import math

import numpy as np

from . import linear, sigmoid

# Widths 24, 14, 8, 5: every level but the first is a rounded-down fraction.
CONFIG = {"type": "fractal", "memory_dim": 24, "num_levels": 4, "compression_ratio": 0.6, "seed": 1}


def widths(config: dict) -> list[int]:
    d = config["memory_dim"]
    ratio = config.get("compression_ratio", 0.5)
    return [max(1, math.floor(d * ratio**i)) for i in range(config.get("num_levels", 3))]


def specs(config: dict) -> dict[str, tuple]:
    d = config["memory_dim"]
    out = {}
    previous = d
    for i, w in enumerate(widths(config)):
        p = f"fractal.{i}."
        out[p + "encoder.weight"] = (w, previous)
        out[p + "encoder.bias"] = (w,)
        out[p + "lstm.weight_ih"] = (4 * w, w)
        out[p + "lstm.weight_hh"] = (4 * w, w)
        out[p + "lstm.bias_ih"] = (4 * w,)
        out[p + "lstm.bias_hh"] = (4 * w,)
        out[p + "decoder.weight"] = (d, w)
        out[p + "decoder.bias"] = (d,)
        out[p + "persistence"] = (w,)
        previous = w
    return out


class Reference:
    def __init__(self, config: dict, weights: dict[str, np.ndarray]):
        self.d = config["memory_dim"]
        self.widths = widths(config)
        self.w = {name: v.astype(np.float64) for name, v in weights.items()}

    @property
    def state_size(self) -> int:
        return 3 * sum(self.widths)

    def initial_state(self, batch: int) -> np.ndarray:
        return np.zeros((batch, self.state_size), dtype=np.float32)

    def step(self, state, hidden, done):
        s = state.astype(np.float64).copy()
        if done is not None:
            s[np.asarray(done) != 0] = 0.0
        batch = s.shape[0]
        x = hidden.astype(np.float64)
        decoded, strength, conflict, usage = [], [], [], []
        offset = 0
        for i, w in enumerate(self.widths):
            p = f"fractal.{i}."
            h = s[:, offset : offset + w]
            c = s[:, offset + w : offset + 2 * w]
            m = s[:, offset + 2 * w : offset + 3 * w]

            e = np.tanh(linear(x, self.w, p + "encoder"))
            z = (e @ self.w[p + "lstm.weight_ih"].T + self.w[p + "lstm.bias_ih"]
                 + h @ self.w[p + "lstm.weight_hh"].T + self.w[p + "lstm.bias_hh"])
            gi, gf, gg, go = z[:, :w], z[:, w : 2 * w], z[:, 2 * w : 3 * w], z[:, 3 * w :]
            c_new = sigmoid(gf) * c + sigmoid(gi) * np.tanh(gg)
            h_new = sigmoid(go) * np.tanh(c_new)
            keep = sigmoid(self.w[p + "persistence"])
            m_new = m * keep + h_new * (1 - keep)

            strength.append(np.mean(1 - keep))
            conflict.append(np.mean(np.abs(m_new - m), axis=1) / 2)
            usage.append(np.mean(np.abs(m_new), axis=1))
            decoded.append(linear(m_new, self.w, p + "decoder"))

            s[:, offset : offset + w] = h_new
            s[:, offset + w : offset + 2 * w] = c_new
            s[:, offset + 2 * w : offset + 3 * w] = m_new
            x = m_new
            offset += 3 * w

        read = np.mean(decoded, axis=0)
        norms = np.stack([np.linalg.norm(r, axis=1) for r in decoded], axis=1)
        total = norms.sum(axis=1, keepdims=True)
        shares = np.where(total > 0, norms / np.where(total > 0, total, 1.0), 0.0)
        entropy = -np.sum(np.where(shares > 0, shares * np.log(np.where(shares > 0, shares, 1.0)), 0.0), axis=1)
        logs = np.stack([
            np.full(batch, np.mean(strength)), entropy, np.mean(conflict, axis=0), np.mean(usage, axis=0),
        ], axis=1)
        return read.astype(np.float32), s.astype(np.float32), logs.astype(np.float32)
