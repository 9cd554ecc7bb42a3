"""numpy reference implementations of the memory kernels, one module per kernel type, written
from the equations in docs/kernels.md (not from the Swift code). Each module exposes:

    CONFIG                      a small configuration for the parity test
    specs(config)               tensor name -> shape, the names the kernel's weights file uses
    Reference(config, weights)  .initial_state(batch) -> [B, S] float32 (the kernel's layout)
                                .step(state, hidden, done) -> (read [B, D], state [B, S], logs [B, 4])

Shared helpers: softmax, entropy, sigmoid, linear, and safetensors writing for the weights.
"""

from __future__ import annotations

import json
import struct

import numpy as np

LOGS = ["write_strength", "read_entropy", "overwrite_conflict", "usage_mean"]


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    m = np.max(x, axis=axis, keepdims=True)
    e = np.exp(x - m)
    return e / np.sum(e, axis=axis, keepdims=True)


def entropy(p: np.ndarray, axis: int = -1) -> np.ndarray:
    safe = np.where(p > 0, p, 1.0)
    return -np.sum(np.where(p > 0, p * np.log(safe), 0.0), axis=axis)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def linear(x: np.ndarray, weights: dict, name: str) -> np.ndarray:
    """x · weightᵀ + bias, PyTorch's nn.Linear layout."""
    return x @ weights[f"{name}.weight"].T + weights[f"{name}.bias"]


def random_weights(shapes: dict[str, tuple], seed: int) -> dict[str, np.ndarray]:
    """Uniform in ±1/√fan_in per tensor (float32), as PyTorch initialises linear layers."""
    rng = np.random.default_rng(seed)
    out = {}
    for name in sorted(shapes):
        shape = shapes[name]
        bound = 1.0 / np.sqrt(max(1, shape[-1]))
        out[name] = rng.uniform(-bound, bound, size=shape).astype(np.float32)
    return out


def save_safetensors(path, tensors: dict[str, np.ndarray]) -> None:
    """Writes float32 tensors in the safetensors format (written here from the format's
    description, so the test does not trust the library's own writer)."""
    header, offset, blobs = {}, 0, []
    for name in sorted(tensors):
        data = np.ascontiguousarray(tensors[name], dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header).encode()
    text += b" " * ((8 - (len(text) + 8) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
