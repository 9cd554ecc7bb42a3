"""Memory kernels for learning loops: :class:`Kernel`, over ``include/strata/kernel.h``.

A kernel carries a float32 state from step to step for a batch of independent streams (seed
003's PMM, Slot, KV and Ring, seed 000's fractal levels; ``docs/kernels.md`` has the equations).
Arrays are numpy float32, C-contiguous; such arrays are handed to the library without copying,
and the state is updated in place.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any, Mapping

import numpy as np

from ._ffi import ffi, lib
from .errors import EngineClosed, StrataError, error_for

__all__ = ["Kernel"]


def _status_error(status: int) -> StrataError:
    message = ffi.string(lib.strata_error_last()).decode("utf-8", "replace")
    name = ffi.string(lib.strata_status_name(status)).decode("ascii", "replace")
    return error_for(int(status), message, name)


def _check(status: int) -> None:
    if status != 0:
        raise _status_error(status)


def _floats(array: Any, shape: tuple[int, ...], what: str, *, writable: bool = False) -> np.ndarray:
    """``array`` as a C-contiguous float32 array of ``shape``, without copying when it already is one.

    A writable buffer (the state) must already be float32 and C-contiguous: a copy would not
    carry the update back to the caller.
    """
    if writable:
        if not isinstance(array, np.ndarray) or array.dtype != np.float32 or not array.flags.c_contiguous:
            raise TypeError(f"{what} must be a C-contiguous numpy float32 array (it is updated in place)")
        if not array.flags.writeable:
            raise ValueError(f"{what} is read-only")
        a = array
    else:
        a = np.ascontiguousarray(array, dtype=np.float32)
    if a.shape != shape:
        raise ValueError(f"{what} has shape {a.shape}, expected {shape}")
    return a


class Kernel:
    """A memory kernel, opened from its JSON description (a dict or a JSON str)::

        with strata.Kernel({"type": "pmm", "memory_dim": 256, "num_slots": 16, "num_heads": 4,
                            "decay_rate": 0.99, "seed": 1}) as k:
            state = k.initial_state(32)
            read, state, logs = k.step(state, hidden, done_mask)

    ``weights`` names a safetensors file with weights trained elsewhere (PyTorch's ``nn.Linear``
    layout); without it they are drawn from ``seed``.
    """

    def __init__(self, config: Mapping[str, Any] | str) -> None:
        text = config if isinstance(config, str) else json.dumps(dict(config))
        out = ffi.new("strata_kernel **")
        _check(lib.strata_kernel_open(out, text.encode("utf-8")))
        self._handle = out[0]
        self._lock = threading.Lock()
        info = self._info()
        self.type: str = info["type"]
        self.dimension: int = int(info["dimension"])
        self.state_size: int = int(info["state_size"])
        self.log_names: list[str] = list(info["logs"])
        self.parameter_count: int = int(info["parameters"])

    def _info(self) -> dict[str, Any]:
        out = ffi.new("char **")
        _check(lib.strata_kernel_info(self._live(), out))
        try:
            return json.loads(ffi.string(out[0]).decode("utf-8"))
        finally:
            lib.strata_string_free(out[0])

    def _live(self) -> Any:
        if self._handle is None:
            raise EngineClosed("this strata.Kernel is closed")
        return self._handle

    def close(self) -> None:
        """Frees the kernel; later calls raise. Closing twice is harmless."""
        handle, self._handle = self._handle, None
        if handle is not None:
            lib.strata_kernel_close(handle)

    def __enter__(self) -> "Kernel":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def __repr__(self) -> str:
        state = "closed" if self._handle is None else f"D={self.dimension}, state_size={self.state_size}"
        return f"strata.Kernel({self.type}, {state}, {self.parameter_count} parameters)"

    # ---- state ----------------------------------------------------------------------------

    def initial_state(self, batch: int) -> np.ndarray:
        """A new state for ``batch`` rows: float32 [batch, state_size]."""
        if batch < 1:
            raise ValueError(f"batch must be at least 1, got {batch}")
        state = np.empty((batch, self.state_size), dtype=np.float32)
        _check(lib.strata_kernel_initial_state(self._live(), batch, ffi.from_buffer("float[]", state)))
        return state

    def reset(self, state: np.ndarray, keep_mask: Any) -> np.ndarray:
        """Resets, in place, the rows whose ``keep_mask`` is 0 (or False); returns ``state``."""
        batch = state.shape[0] if isinstance(state, np.ndarray) and state.ndim == 2 else -1
        s = _floats(state, (batch, self.state_size), "state", writable=True)
        keep = _floats(keep_mask, (batch,), "keep_mask")
        _check(lib.strata_kernel_reset(self._live(), batch, ffi.from_buffer("float[]", s), ffi.from_buffer("float[]", keep)))
        return state

    # ---- steps ----------------------------------------------------------------------------

    def step(
        self, state: np.ndarray, hidden: Any, mask: Any = None, *, out: tuple[np.ndarray, np.ndarray] | None = None
    ) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """One step. ``hidden`` is [batch, D]; ``mask`` [batch] marks rows to reset first (a done
        flag), or None. Returns ``(read, state, logs)``: read [batch, D], the state (updated in
        place), and each log name to a [batch] array.

        ``out=(read, logs)`` gives float32 arrays [batch, D] and [batch, log_count] to write into,
        so a training loop allocates nothing per step; the logs returned are views of ``logs``.
        """
        batch = state.shape[0] if isinstance(state, np.ndarray) and state.ndim == 2 else -1
        s = _floats(state, (batch, self.state_size), "state", writable=True)
        h = _floats(hidden, (batch, self.dimension), "hidden")
        m = None if mask is None else _floats(mask, (batch,), "mask")
        if out is None:
            read = np.empty((batch, self.dimension), dtype=np.float32)
            logs = np.empty((batch, len(self.log_names)), dtype=np.float32)
        else:
            read = _floats(out[0], (batch, self.dimension), "out[0] (read)", writable=True)
            logs = _floats(out[1], (batch, len(self.log_names)), "out[1] (logs)", writable=True)
        _check(lib.strata_kernel_step(
            self._live(), batch, ffi.from_buffer("float[]", s), ffi.from_buffer("float[]", h),
            ffi.NULL if m is None else ffi.from_buffer("float[]", m), ffi.from_buffer("float[]", read),
            ffi.from_buffer("float[]", logs)))
        return read, state, {name: logs[:, i] for i, name in enumerate(self.log_names)}

    def sequence(
        self, state: np.ndarray, hidden: Any, masks: Any = None, *, out: tuple[np.ndarray, np.ndarray] | None = None
    ) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """``T`` steps at once: ``hidden`` [T, batch, D], ``masks`` [T, batch] or None. Returns
        ``(read [T, batch, D], state, logs)`` with each log a [T, batch] array.

        ``out=(read, logs)`` gives float32 arrays [T, batch, D] and [T, batch, log_count] to write
        into, as ``step`` takes them."""
        batch = state.shape[0] if isinstance(state, np.ndarray) and state.ndim == 2 else -1
        s = _floats(state, (batch, self.state_size), "state", writable=True)
        steps = np.shape(hidden)[0] if np.ndim(hidden) == 3 else -1
        h = _floats(hidden, (steps, batch, self.dimension), "hidden")
        m = None if masks is None else _floats(masks, (steps, batch), "masks")
        if out is None:
            read = np.empty((steps, batch, self.dimension), dtype=np.float32)
            logs = np.empty((steps, batch, len(self.log_names)), dtype=np.float32)
        else:
            read = _floats(out[0], (steps, batch, self.dimension), "out[0] (read)", writable=True)
            logs = _floats(out[1], (steps, batch, len(self.log_names)), "out[1] (logs)", writable=True)
        _check(lib.strata_kernel_sequence(
            self._live(), steps, batch, ffi.from_buffer("float[]", s), ffi.from_buffer("float[]", h),
            ffi.NULL if m is None else ffi.from_buffer("float[]", m), ffi.from_buffer("float[]", read),
            ffi.from_buffer("float[]", logs)))
        return read, state, {name: logs[:, :, i] for i, name in enumerate(self.log_names)}

    # ---- files ----------------------------------------------------------------------------

    def save_state(self, path: str | os.PathLike[str], state: np.ndarray) -> None:
        """Saves a state to a safetensors file (tensor ``state``)."""
        batch = state.shape[0] if isinstance(state, np.ndarray) and state.ndim == 2 else -1
        s = _floats(state, (batch, self.state_size), "state")
        _check(lib.strata_kernel_save_state(self._live(), os.fsencode(path), batch, ffi.from_buffer("float[]", s)))

    def load_state(self, path: str | os.PathLike[str], batch: int) -> np.ndarray:
        """A state of ``batch`` rows loaded from a file written by :meth:`save_state`."""
        state = np.empty((batch, self.state_size), dtype=np.float32)
        _check(lib.strata_kernel_load_state(self._live(), os.fsencode(path), batch, ffi.from_buffer("float[]", state)))
        return state

    def save_weights(self, path: str | os.PathLike[str]) -> None:
        """Writes the kernel's weights to a safetensors file (names as docs/kernels.md lists them)."""
        _check(lib.strata_kernel_save_weights(self._live(), os.fsencode(path)))
