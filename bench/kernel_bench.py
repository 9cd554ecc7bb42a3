#!/usr/bin/env python3
"""bench/kernel_bench.py: the memory kernels' step and sequence throughput next to the same
modules in PyTorch CPU eager, and against this machine's sgemm bound (issue 5's benchmark).

For each kernel (ring, kv, fractal, and pmm / slot when the library has them), in one process:

  parity     the Strata kernel (release libstrata.so through the Python package) writes its
             weights with save_weights; a PyTorch nn.Module written from docs/kernels.md loads
             that file; both run the same steps (with a done mask half way) from the initial
             state, and the largest read and log differences are printed. A kernel whose reads
             differ by more than 1e-4 is not timed: a benchmark of different computations is
             worthless.
  step       steps/s of kernel.step(state, hidden) against module.step(state, hidden) under
             torch.inference_mode(), in windows of --seconds, interleaved (Strata, torch,
             Strata, torch, ...) for --rounds rounds; each side keeps its best window.
  sequence   steps/s of kernel.sequence(state, hidden[T, B, D]) (T = 64) against the torch
             module looping over the T steps in Python and stacking the reads, as eager code does.

at a small configuration (batch 32, D 256, 16 slots / buffer 16, 4 heads, 3 levels) and a large
one (batch 256, D 1024, 64 slots / buffer 64, 8 heads). Each row reports Strata's achieved
GFLOP/s (the FLOPs of one step counted from the equations, see `flops_*` below: 2·m·n·k per
matrix product plus the attention products; element-wise work is not counted) and its share of
the sgemm bound that `strata bench machine` measures in the same run.

torch runs with as many threads as Strata (`--threads`, default every core): `torch.set_num_threads`
and the kernels' `threads` key. torch is a benchmark-only peer, never a dependency of the
product; bench/run.sh puts it in its own venv (.build/bench-venv).

    STRATA_LIBRARY=$PWD/.build/release/libstrata.so .build/bench-venv/bin/python bench/kernel_bench.py [--json]
        [--kernels ring,kv,fractal,pmm,slot] [--configs small,large] [--rounds 5] [--seconds 0.5]

A measurement, not a test: it exits 0 whatever the figures (bench/run.sh runs it).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bindings" / "python"))

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import strata  # noqa: E402

PARITY_TOLERANCE = 1e-4

CONFIGS = {
    # batch, D, slots (buffer_size for ring), heads, levels (fractal)
    "small": {"batch": 32, "dim": 256, "slots": 16, "heads": 4, "levels": 3, "seq": 64},
    "large": {"batch": 256, "dim": 1024, "slots": 64, "heads": 8, "levels": 3, "seq": 0},  # step only
}


def load_safetensors(path) -> dict[str, np.ndarray]:
    """float32 tensors from a safetensors file (8-byte header length, JSON header, data)."""
    raw = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", f"{name}: {info['dtype']}"
        lo, hi = info["data_offsets"]
        out[name] = np.frombuffer(raw, dtype="<f4", count=(hi - lo) // 4, offset=8 + n + lo).reshape(info["shape"]).copy()
    return out


def linear_from(weights: dict, name: str) -> nn.Linear:
    w = torch.from_numpy(weights[f"{name}.weight"])
    layer = nn.Linear(w.shape[1], w.shape[0])
    with torch.no_grad():
        layer.weight.copy_(w)
        layer.bias.copy_(torch.from_numpy(weights[f"{name}.bias"]))
    return layer


def entropy(p: torch.Tensor) -> torch.Tensor:
    return -(p * torch.log(torch.where(p > 0, p, torch.ones_like(p)))).sum(-1)


# ---- the modules in PyTorch eager, from docs/kernels.md ------------------------------------
#
# Each keeps its state as a dict of tensors in the natural PyTorch layout (not Strata's flat
# row), and `step(state, hidden, done)` returns (read [B, D], logs [B, 4]) and updates the state
# in place, the logs being seed 003's write_strength, read_entropy, overwrite_conflict, usage_mean.


class TorchRing(nn.Module):
    def __init__(self, cfg: dict, weights: dict):
        super().__init__()
        self.d, self.n = cfg["memory_dim"], cfg["buffer_size"]
        self.query = linear_from(weights, "ring.query")
        self.output = linear_from(weights, "ring.output")

    def initial_state(self, batch: int) -> dict:
        return {"buffer": torch.zeros(batch, self.n, self.d), "valid": torch.zeros(batch, self.n),
                "pointer": torch.zeros(batch, dtype=torch.long)}

    def step(self, s: dict, h: torch.Tensor, done: torch.Tensor | None = None):
        if done is not None:
            reset(s, done != 0)
        buffer, valid, w = s["buffer"], s["valid"], s["pointer"]
        rows = torch.arange(h.shape[0])
        buffer[rows, w] = h
        valid[rows, w] = 1.0
        q = self.query(h)
        scores = torch.bmm(buffer, q.unsqueeze(2)).squeeze(2) / math.sqrt(self.d)
        a = torch.softmax(scores.masked_fill(valid == 0, float("-inf")), dim=-1)
        mixed = torch.bmm(a.unsqueeze(1), buffer).squeeze(1)
        read = self.output(mixed)
        logs = torch.stack([torch.ones_like(a[:, 0]), entropy(a), a[rows, w], valid.mean(-1)], dim=1)
        s["pointer"] = (w + 1) % self.n
        return read, logs


class TorchKV(nn.Module):
    def __init__(self, cfg: dict, weights: dict):
        super().__init__()
        self.d, self.n = cfg["memory_dim"], cfg["num_slots"]
        self.kd = cfg.get("key_dim", self.d)
        self.key = linear_from(weights, "kv.key")
        self.value = linear_from(weights, "kv.value")
        self.query = linear_from(weights, "kv.query")
        self.output = linear_from(weights, "kv.output")

    def initial_state(self, batch: int) -> dict:
        return {"keys": torch.zeros(batch, self.n, self.kd), "values": torch.zeros(batch, self.n, self.d),
                "valid": torch.zeros(batch, self.n), "pointer": torch.zeros(batch, dtype=torch.long)}

    def step(self, s: dict, h: torch.Tensor, done: torch.Tensor | None = None):
        if done is not None:
            reset(s, done != 0)
        keys, values, valid, w = s["keys"], s["values"], s["valid"], s["pointer"]
        rows = torch.arange(h.shape[0])
        k, v, q = self.key(h), self.value(h), self.query(h)
        scale = 1 / math.sqrt(self.kd)
        raw = torch.bmm(keys, q.unsqueeze(2)).squeeze(2) * scale
        before = torch.softmax(raw.masked_fill(valid == 0, float("-inf")), dim=-1)
        conflict = torch.where(valid[rows, w] != 0, before[rows, w], torch.zeros_like(raw[:, 0]))
        keys[rows, w] = k
        values[rows, w] = v
        valid[rows, w] = 1.0
        raw[rows, w] = (q * k).sum(-1) * scale  # only the written pair's score changes
        a = torch.softmax(raw.masked_fill(valid == 0, float("-inf")), dim=-1)
        mixed = torch.bmm(a.unsqueeze(1), values).squeeze(1)
        read = self.output(mixed)
        logs = torch.stack([torch.ones_like(conflict), entropy(a), conflict, valid.mean(-1)], dim=1)
        s["pointer"] = (w + 1) % self.n
        return read, logs


class TorchFractal(nn.Module):
    def __init__(self, cfg: dict, weights: dict):
        super().__init__()
        d, ratio = cfg["memory_dim"], cfg.get("compression_ratio", 0.5)
        self.d = d
        self.widths = [max(1, math.floor(d * ratio**i)) for i in range(cfg.get("num_levels", 3))]
        self.encoders, self.cells, self.decoders = nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
        keep = []
        for i, w in enumerate(self.widths):
            p = f"fractal.{i}."
            self.encoders.append(linear_from(weights, p + "encoder"))
            cell = nn.LSTMCell(w, w)
            with torch.no_grad():
                for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                    getattr(cell, name).copy_(torch.from_numpy(weights[p + "lstm." + name]))
            self.cells.append(cell)
            self.decoders.append(linear_from(weights, p + "decoder"))
            keep.append(torch.sigmoid(torch.from_numpy(weights[p + "persistence"]).double()).float())
        self.keep = keep
        self.strength = float(np.mean([float((1 - k.double()).mean()) for k in keep]))

    def initial_state(self, batch: int) -> dict:
        return {f"{x}{i}": torch.zeros(batch, w) for i, w in enumerate(self.widths) for x in "hcm"}

    def step(self, s: dict, x: torch.Tensor, done: torch.Tensor | None = None):
        if done is not None:
            reset(s, done != 0)
        decoded, conflict, usage = [], [], []
        for i in range(len(self.widths)):
            e = torch.tanh(self.encoders[i](x))
            h, c = self.cells[i](e, (s[f"h{i}"], s[f"c{i}"]))
            pi, m = self.keep[i], s[f"m{i}"]
            m_new = m * pi + h * (1 - pi)
            conflict.append((m_new - m).abs().mean(-1) / 2)
            usage.append(m_new.abs().mean(-1))
            decoded.append(self.decoders[i](m_new))
            s[f"h{i}"], s[f"c{i}"], s[f"m{i}"] = h, c, m_new
            x = m_new
        levels = len(self.widths)
        read = torch.stack(decoded).mean(0)
        norms = torch.stack([r.norm(dim=-1) for r in decoded], dim=1)
        total = norms.sum(-1, keepdim=True)
        shares = torch.where(total > 0, norms / torch.where(total > 0, total, torch.ones_like(total)), torch.zeros_like(norms))
        logs = torch.stack([torch.full_like(total[:, 0], self.strength), entropy(shares),
                            torch.stack(conflict, 1).sum(-1) / levels, torch.stack(usage, 1).sum(-1) / levels], dim=1)
        return read, logs


class TorchPMM(nn.Module):
    def __init__(self, cfg: dict, weights: dict):
        super().__init__()
        self.d, self.n = cfg["memory_dim"], cfg["num_slots"]
        self.heads, self.gamma = cfg.get("num_heads", 4), cfg.get("decay_rate", 0.99)
        for name in ("query", "key", "output", "write_gate", "write_value"):
            setattr(self, name, linear_from(weights, f"pmm.{name}"))

    def initial_state(self, batch: int) -> dict:
        return {"memory": torch.zeros(batch, self.n, self.d), "usage": torch.zeros(batch, self.n)}

    def step(self, s: dict, h: torch.Tensor, done: torch.Tensor | None = None):
        if done is not None:
            reset(s, done != 0)
        memory, usage = s["memory"], s["usage"]
        b, n, heads = h.shape[0], self.n, self.heads
        e = self.d // heads
        rows = torch.arange(b)
        # Read (the memory before the write): per head, the query against every slot's key; values are the slots.
        q = self.query(h).view(b, heads, 1, e)
        keys = self.key(memory).view(b, n, heads, e).transpose(1, 2)  # [B, H, N, E]
        values = memory.view(b, n, heads, e).transpose(1, 2)
        a = torch.softmax(torch.matmul(q, keys.transpose(2, 3)) / math.sqrt(e), dim=-1)  # [B, H, 1, N]
        read = self.output(torch.matmul(a, values).reshape(b, self.d))
        a = a.squeeze(2)
        mean_a = a.mean(1)
        usage.mul_(self.gamma).add_(mean_a)
        w = torch.argmin(usage, dim=1)  # the first minimum
        g = torch.sigmoid(self.write_gate(h))  # [B, 1]
        v = self.write_value(h)
        memory.mul_(self.gamma)
        memory[rows, w] = (1 - g) * memory[rows, w] + g * v
        usage[rows, w] += g[:, 0]
        logs = torch.stack([g[:, 0], entropy(a).mean(1), g[:, 0] * mean_a[rows, w], usage.mean(1)], dim=1)
        return read, logs


class TorchSlot(nn.Module):
    def __init__(self, cfg: dict, weights: dict):
        super().__init__()
        self.d, self.n = cfg["memory_dim"], cfg.get("num_slots", 8)
        for name in ("address", "output", "write_gate", "write_value"):
            setattr(self, name, linear_from(weights, f"slot.{name}"))

    def initial_state(self, batch: int) -> dict:
        return {"slots": torch.zeros(batch, self.n, self.d), "fill": torch.zeros(batch, self.n)}

    def step(self, s: dict, h: torch.Tensor, done: torch.Tensor | None = None):
        if done is not None:
            reset(s, done != 0)
        slots, fill = s["slots"], s["fill"]
        c = torch.softmax(self.address(h), dim=-1)  # [B, N]
        read = self.output(torch.bmm(c.unsqueeze(1), slots).squeeze(1))
        g = torch.sigmoid(self.write_gate(h))  # [B, 1]
        v = self.write_value(h)
        alpha = g * c
        slots.mul_((1 - alpha).unsqueeze(2)).add_(alpha.unsqueeze(2) * v.unsqueeze(1))
        fill.mul_(1 - alpha).add_(alpha)
        logs = torch.stack([g[:, 0], entropy(c), g[:, 0] * (c * c).sum(1), fill.mean(1)], dim=1)
        return read, logs


def reset(state: dict, rows: torch.Tensor) -> None:
    """Rows whose done flag is set go back to the initial state (all zero for these kernels)."""
    for value in state.values():
        value[rows] = 0


# ---- FLOPs of one step (batch B), counted from the equations in docs/kernels.md ---------------


def flops_ring(cfg: dict, b: int) -> float:
    d, n = cfg["memory_dim"], cfg["buffer_size"]
    # query and output projections (B x D x D each), scores q·buffer[i] and the mix Σ a_i buffer[i] (B x N x D each)
    return 2 * b * (2 * d * d + 2 * n * d)


def flops_kv(cfg: dict, b: int) -> float:
    d, n = cfg["memory_dim"], cfg["num_slots"]
    k = cfg.get("key_dim", d)
    # key, query (B x D x K), value, output (B x D x D); scores (B x N x K), mix (B x N x D)
    return 2 * b * (2 * d * k + 2 * d * d + n * k + n * d)


def flops_fractal(cfg: dict, b: int) -> float:
    d, ratio = cfg["memory_dim"], cfg.get("compression_ratio", 0.5)
    total, previous = 0, d
    for i in range(cfg.get("num_levels", 3)):
        w = max(1, math.floor(d * ratio**i))
        # encoder (B x n x w), the LSTM's two products (B x w x 4w each), decoder (B x w x D)
        total += 2 * b * (previous * w + 8 * w * w + w * d)
        previous = w
    return total


def flops_pmm(cfg: dict, b: int) -> float:
    d, n, h = cfg["memory_dim"], cfg["num_slots"], cfg["num_heads"]
    # What Strata computes (docs/kernels.md, "PMM"): query, output, write value (B x D x D each),
    # the key-side queries u (H products of B x E x D: B x D x D in all), write gate (B x D x 1),
    # scores memory · u_k (B x N x D per head) and the mix (B x N x D over all heads). The equations
    # as written (and the torch module) form every slot's key instead, B·N x D x D more:
    # `flops_pmm_keys`.
    return 2 * b * (4 * d * d + d + n * h * d + n * d)


def flops_pmm_keys(cfg: dict, b: int) -> float:
    d, n = cfg["memory_dim"], cfg["num_slots"]
    # query, output, write value (B x D x D each), every slot's key (B·N x D x D), write gate,
    # scores and the mix over H heads of width E = D / H (B x N x D each in all)
    return 2 * b * (3 * d * d + n * d * d + d + 2 * n * d)


def flops_slot(cfg: dict, b: int) -> float:
    d, n = cfg["memory_dim"], cfg.get("num_slots", 8)
    # address (B x D x N), output and write value (B x D x D), write gate (B x D x 1), the mix (B x N x D)
    return 2 * b * (n * d + 2 * d * d + d + n * d)


# Bytes of state one step must stream from memory (at the large configuration the state does
# not fit in cache; the weights do, mostly): what the attention reads and the updates rewrite.


def bytes_ring(cfg: dict, b: int) -> float:
    d, n = cfg["memory_dim"], cfg["buffer_size"]
    return 4 * b * (n * d + d)  # the buffer read once (the mix re-reads it from L2), one slot written


def bytes_kv(cfg: dict, b: int) -> float:
    d, n = cfg["memory_dim"], cfg["num_slots"]
    k = cfg.get("key_dim", d)
    return 4 * b * (n * (k + d) + k + d)  # keys and values read, one pair written


def bytes_fractal(cfg: dict, b: int) -> float:
    d, ratio = cfg["memory_dim"], cfg.get("compression_ratio", 0.5)
    widths = [max(1, math.floor(d * ratio**i)) for i in range(cfg.get("num_levels", 3))]
    return 4 * b * 2 * 3 * sum(widths)  # h, c, m read and written


def bytes_pmm(cfg: dict, b: int) -> float:
    d, n = cfg["memory_dim"], cfg["num_slots"]
    return 4 * b * 3 * n * d  # the memory read by the key product, then read and written by the decay


def bytes_slot(cfg: dict, b: int) -> float:
    d, n = cfg["memory_dim"], cfg.get("num_slots", 8)
    return 4 * b * 3 * n * d  # the slots read by the mix, then read and written by the update


KERNELS = {
    "ring": (lambda c: {"type": "ring", "memory_dim": c["dim"], "buffer_size": c["slots"]}, TorchRing, flops_ring, bytes_ring),
    "kv": (lambda c: {"type": "kv", "memory_dim": c["dim"], "num_slots": c["slots"]}, TorchKV, flops_kv, bytes_kv),
    "fractal": (lambda c: {"type": "fractal", "memory_dim": c["dim"], "num_levels": c["levels"]}, TorchFractal, flops_fractal, bytes_fractal),
    "pmm": (lambda c: {"type": "pmm", "memory_dim": c["dim"], "num_slots": c["slots"], "num_heads": c["heads"],
                       "decay_rate": 0.99}, TorchPMM, flops_pmm, bytes_pmm),
    "slot": (lambda c: {"type": "slot", "memory_dim": c["dim"], "num_slots": c["slots"]}, TorchSlot, flops_slot, bytes_slot),
}


# ---- measuring ------------------------------------------------------------------------------


def machine_bound() -> dict:
    for build in ("release", "debug"):
        cli = ROOT / ".build" / build / "strata-cli"
        if cli.exists():
            out = subprocess.run([str(cli), "bench", "machine", "--json"], capture_output=True, text=True, check=True)
            return json.loads(out.stdout)
    raise SystemExit("build first: swift build -c release")


def best_rate(fn, seconds: float, per_call: int) -> float:
    """Calls fn() for at least `seconds`; returns steps per second (per_call steps a call)."""
    calls, start = 0, time.perf_counter()
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return calls * per_call / elapsed


def parity(kernel, module, cfg: dict, batch: int, steps: int, rng) -> dict:
    state = kernel.initial_state(batch)
    tstate = module.initial_state(batch)
    worst = {"read": 0.0, "logs": 0.0}
    with torch.inference_mode():
        for t in range(steps):
            hidden = rng.standard_normal((batch, cfg["memory_dim"])).astype(np.float32)
            done = (np.arange(batch) % 3 == 0).astype(np.float32) if t == steps // 2 else None
            read, state, logs = kernel.step(state, hidden, done)
            tread, tlogs = module.step(tstate, torch.from_numpy(hidden), None if done is None else torch.from_numpy(done))
            got = np.stack([logs[name] for name in kernel.log_names], axis=1)
            worst["read"] = max(worst["read"], float(np.max(np.abs(read - tread.numpy()))))
            worst["logs"] = max(worst["logs"], float(np.max(np.abs(got - tlogs.numpy()))))
    return worst


def bench_one(kind: str, size: str, args, bound: float, stream: float, rng) -> dict | None:
    make_config, torch_class, flops, traffic = KERNELS[kind]
    c = CONFIGS[size]
    cfg = {**make_config(c), "seed": 1, "threads": args.threads}
    try:
        kernel = strata.Kernel(cfg)
    except strata.StrataError as e:  # a kernel this build does not have yet
        print(f"# {kind}: not in this build ({e})", file=sys.stderr)
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{kind}.safetensors"
        kernel.save_weights(path)
        weights = load_safetensors(path)
    module = torch_class(cfg, weights).eval()
    batch, d, seq = c["batch"], c["dim"], c["seq"]
    steps = max(8, 2 * c["slots"] + 4) if size == "small" else 6
    diff = parity(kernel, module, cfg, batch, steps, rng)
    row = {"kernel": kind, "config": size, "batch": batch, "dim": d, "slots": c["slots"], "heads": c["heads"],
           "parity_steps": steps, "max_read_diff": diff["read"], "max_log_diff": diff["logs"]}
    print(f"# {kind} {size}: parity over {steps} steps: max |read diff| {diff['read']:.2e}, max |log diff| {diff['logs']:.2e}",
          file=sys.stderr)
    if not diff["read"] <= PARITY_TOLERANCE:
        row["error"] = f"reads differ by {diff['read']:.3g} > {PARITY_TOLERANCE}: not timed"
        return row

    # Steady state: both sides start from a full memory (every slot written), then keep stepping.
    inputs = [rng.standard_normal((batch, d)).astype(np.float32) for _ in range(4)]
    tinputs = [torch.from_numpy(x) for x in inputs]
    seq_in = rng.standard_normal((max(seq, 1), batch, d)).astype(np.float32)
    tseq_in = torch.from_numpy(seq_in)
    state = kernel.initial_state(batch)
    tstate = module.initial_state(batch)
    with torch.inference_mode():
        for t in range(c["slots"] + 1):
            kernel.step(state, inputs[t % 4])
            module.step(tstate, tinputs[t % 4])

    counter = {"i": 0}

    # The read and the logs go into arrays made once (Kernel.step's out=), as a training loop
    # that cares about speed writes it; torch's eager modules allocate theirs, as eager code does.
    out = (np.empty((batch, kernel.dimension), dtype=np.float32), np.empty((batch, len(kernel.log_names)), dtype=np.float32))

    def strata_step():
        counter["i"] += 1
        kernel.step(state, inputs[counter["i"] & 3], out=out)

    def torch_step():
        counter["i"] += 1
        module.step(tstate, tinputs[counter["i"] & 3])

    def strata_sequence():
        kernel.sequence(state, seq_in)

    def torch_sequence():
        reads, logs = [], []
        for t in range(seq):
            r, l = module.step(tstate, tseq_in[t])
            reads.append(r)
            logs.append(l)
        return torch.stack(reads), torch.stack(logs)

    per_step = flops(cfg, batch)
    row["flops_per_step"] = per_step
    row["state_bytes_per_step"] = traffic(cfg, batch)
    # The fastest a step can be: its FLOPs at the sgemm bound plus its state traffic at the streaming bound.
    floor_s = per_step / (bound * 1e9) + traffic(cfg, batch) / (stream * 1e9)
    with torch.inference_mode():
        modes = [("step", strata_step, torch_step, 1)]
        if seq:
            modes.append(("sequence", strata_sequence, torch_sequence, seq))
        for mode, sfn, tfn, per_call in modes:
            best_s = best_t = 0.0
            sfn(), tfn()  # warm
            for _ in range(args.rounds):
                best_s = max(best_s, best_rate(sfn, args.seconds, per_call))
                best_t = max(best_t, best_rate(tfn, args.seconds, per_call))
            gflops = best_s * per_step / 1e9
            torch_gflops = best_t * per_step / 1e9
            # The ratio Strata would reach running every FLOP at the sgemm bound: torch's time over
            # the step's FLOPs at the bound (its matrix products alone cap the speed-up).
            ceiling = (per_step / (bound * 1e9)) ** -1 / best_t
            row[mode] = {"ceiling_ratio": ceiling, "strata_pct_roofline": 100 * floor_s * best_s,
                "T": per_call, "strata_steps_s": best_s, "torch_steps_s": best_t, "ratio": best_s / best_t,
                "strata_rows_s": best_s * batch, "torch_rows_s": best_t * batch,
                "strata_gflops": gflops, "torch_gflops": torch_gflops,
                "strata_pct_bound": 100 * gflops / bound, "torch_pct_bound": 100 * torch_gflops / bound,
            }
    kernel.close()
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kernels", default="ring,kv,fractal,pmm,slot")
    ap.add_argument("--configs", default="small,large")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=0.5)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="Strata's and torch's threads (default: every core)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(5)
    machine = machine_bound()
    bound = float(machine["sgemm_gflop_per_s"])
    stream = float(machine["stream_read_gb_per_s"])
    info = {"torch": torch.__version__, "torch_threads": torch.get_num_threads(), "strata_threads": args.threads,
            "nproc": os.cpu_count(), "load_before": os.getloadavg(), "sgemm_bound_gflops": bound, "stream_bound_gb_s": stream,
            "machine": machine, "when": time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime())}
    rows = []
    for size in args.configs.split(","):
        for kind in args.kernels.split(","):
            if kind not in KERNELS:
                print(f"# {kind}: no PyTorch module in this script yet", file=sys.stderr)
                continue
            row = bench_one(kind, size, args, bound, stream, rng)
            if row is not None:
                rows.append(row)
    info["load_after"] = os.getloadavg()
    after = machine_bound()
    info["sgemm_bound_after_gflops"] = float(after["sgemm_gflop_per_s"])
    if args.json:
        print(json.dumps({"info": info, "rows": rows}, indent=2))
        return
    print("ratio = Strata / torch steps/s; ceiling = the ratio if Strata ran every FLOP at the sgemm bound; "
          "GFLOP/s, % sgemm and % roof (of FLOPs at the sgemm bound + state bytes at the stream bound) are Strata's")
    print(f"torch {info['torch']} ({info['torch_threads']} threads), Strata threads {args.threads}, nproc {info['nproc']}, "
          f"load {info['load_before'][0]:.2f} before / {info['load_after'][0]:.2f} after, "
          f"stream bound {stream:.1f} GB/s, sgemm bound {bound:.1f} GFLOP/s (then {info['sgemm_bound_after_gflops']:.1f} after the run)")
    print(f"{'kernel':<8} {'config':<16} {'mode':<8} {'Strata steps/s':>14} {'torch steps/s':>13} {'ratio':>6} "
          f"{'ceiling':>7} {'Strata rows/s':>13} {'GFLOP/s':>8} {'% sgemm':>8} {'% roof':>7} {'read diff':>9}")
    for r in rows:
        label = f"{r['config']} B{r['batch']} D{r['dim']}"
        if "error" in r:
            print(f"{r['kernel']:<8} {label:<16} {r['error']}")
            continue
        for mode in ("step", "sequence"):
            if mode not in r:
                continue
            m = r[mode]
            name = mode if mode == "step" else f"seq T{m['T']}"
            print(f"{r['kernel']:<8} {label:<16} {name:<8} {m['strata_steps_s']:>14,.0f} {m['torch_steps_s']:>13,.0f} "
                  f"{m['ratio']:>6.2f} {m['ceiling_ratio']:>7.2f} {m['strata_rows_s']:>13,.0f} {m['strata_gflops']:>8.1f} {m['strata_pct_bound']:>7.1f}% {m['strata_pct_roofline']:>6.1f}% "
                  f"{r['max_read_diff']:>9.1e}")


if __name__ == "__main__":
    main()
