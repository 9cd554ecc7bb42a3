#!/usr/bin/env python3
"""all-MiniLM-L6-v2 sentences/s: Strata's native embedder beside sentence-transformers on
PyTorch CPU and onnxruntime, in one run, interleaved (issue 15's benchmark; bench only, never
a dependency).

The same sentences as bench/minilm_bench.c (~13 and ~128 tokens), batch 1, 8 and 32, 1 and 2
threads. Strata is reached through the Python binding (Engine.embed on a minilm configuration),
so its figure includes the binding's cost. sentence-transformers is built from the same model
folder (Transformer + mean Pooling + Normalize, max_seq_length 256); onnxruntime runs the same
BertModel exported to ONNX by torch (written to --onnx once), with the same tokenizer, mean
pooling and normalisation in numpy. The first line checks that all three give the same vectors.

    python3 -m venv /tmp/stvenv
    /tmp/stvenv/bin/pip install "torch==2.13.0+cpu" numpy sentence-transformers cffi onnx onnxruntime
    swift build -c release --product strata && swift build -c release --product strata-minilm
    PYTHONPATH=bindings/python STRATA_LIBRARY=.build/release/libstrata.so \\
        /tmp/stvenv/bin/python bench/minilm_peers.py [--seconds 2] [--json]
"""

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

WORDS = ["the", "agent", "remembers", "where", "alice", "parked", "her", "car", "before", "meeting", "with", "bob",
         "near", "station", "yesterday", "morning", "after", "coffee", "they", "talked", "about", "project", "atlas",
         "deadline", "friday", "budget", "review", "notes", "kept", "memory", "engine", "recall", "quickly"]


def sentences(count: int, words_each: int) -> list[str]:
    """bench/minilm_bench.c's sentences, word for word."""
    n = len(WORDS)
    return [" ".join(WORDS[(s * 7 + w * 3 + w * w) % n] for w in range(words_each)) for s in range(count)]


def rate(embed, texts: list[str], batch: int, seconds: float) -> float:
    """Best sentences/s over rounds of `seconds` (after one warm call)."""
    embed(texts[:batch])
    best = 0.0
    for _ in range(3):
        done, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds / 3:
            first = done % (len(texts) - batch + 1) if batch < len(texts) else 0
            embed(texts[first:first + batch])
            done += batch
        best = max(best, done / (time.perf_counter() - start))
    return best


def onnx_embedders(model_dir: str, path: str, tokenizer) -> dict:
    """onnxruntime sessions on 1 and 2 threads, as functions texts -> normalised mean-pooled
    vectors; the model exported from torch first when `path` does not exist."""
    import onnxruntime
    if not Path(path).exists():
        import torch
        from transformers import BertModel

        class LastHidden(torch.nn.Module):
            def __init__(self, model):
                super().__init__()
                self.model = model

            def forward(self, input_ids, attention_mask):
                return self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

        ids = torch.ones(2, 16, dtype=torch.long)
        axes = {0: "batch", 1: "tokens"}
        torch.onnx.export(LastHidden(BertModel.from_pretrained(model_dir).eval()), (ids, ids), path,
                          input_names=["input_ids", "attention_mask"], output_names=["last_hidden_state"],
                          dynamic_axes={"input_ids": axes, "attention_mask": axes, "last_hidden_state": axes},
                          opset_version=17, dynamo=False)
    out = {}
    for threads in (1, 2):
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        session = onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])

        def embed(texts, session=session):
            enc = tokenizer(texts, padding=True, truncation=True, max_length=256, return_tensors="np")
            mask = enc["attention_mask"].astype(np.int64)
            hidden = session.run(None, {"input_ids": enc["input_ids"].astype(np.int64), "attention_mask": mask})[0]
            pooled = (hidden * mask[:, :, None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1)
            return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

        out[threads] = embed
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    parser.add_argument("--model-dir", default=os.environ.get("STRATA_MINILM_DIR") or str(
        Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local/share")) / "strata/models/all-MiniLM-L6-v2"))
    parser.add_argument("--onnx", default="/tmp/minilm.onnx", help="the ONNX export (made here when missing)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    import strata
    import torch
    from sentence_transformers import SentenceTransformer, models

    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown")
    engines = {t: strata.Engine({"embedder": {"backend": "minilm", "plugin": "minilm",
                                              "options": {"model_dir": args.model_dir, "threads": t}}}) for t in (1, 2)}
    st = SentenceTransformer(modules=[models.Transformer(args.model_dir, max_seq_length=256),
                                      models.Pooling(384, "mean"), models.Normalize()], device="cpu")

    ort = onnx_embedders(args.model_dir, args.onnx, st.tokenizer)

    check = sentences(8, 11) + sentences(2, 126)
    ours = engines[2].embed(check)
    theirs = st.encode(check, batch_size=len(check), convert_to_numpy=True)
    onnx = ort[2](check)
    cosine = float(min(np.min(np.sum(ours * theirs, axis=1)), np.min(np.sum(ours * onnx, axis=1))))
    diff = float(max(np.max(np.abs(ours - theirs)), np.max(np.abs(ours - onnx))))

    rows = []
    for words, label in ((11, "13 tokens"), (126, "128 tokens")):
        texts = sentences(64, words)
        for batch in (1, 8, 32):
            for threads in (1, 2):
                torch.set_num_threads(threads)
                engine = engines[threads]
                a = rate(engine.embed, texts, batch, args.seconds)
                b = rate(lambda t: st.encode(t, batch_size=len(t), convert_to_numpy=True), texts, batch, args.seconds)
                c = rate(ort[threads], texts, batch, args.seconds)
                rows.append({"sentences": label, "batch": batch, "threads": threads, "strata": round(a, 1),
                             "sentence_transformers": round(b, 1), "onnxruntime": round(c, 1),
                             "vs_st": round(a / b, 2), "vs_onnxruntime": round(a / c, 2)})
    if args.json:
        print(json.dumps({"cpu": cpu, "torch": torch.__version__, "min_cosine": cosine, "max_abs_diff": diff, "rows": rows}, indent=2))
        return
    import onnxruntime
    print(f"cpu: {cpu}; torch {torch.__version__}, onnxruntime {onnxruntime.__version__}; "
          f"all three give the same vectors: min cosine {cosine:.7f}, max |diff| {diff:.2e}")
    print(f"{'sentences':<11} {'batch':>5} {'threads':>7} {'strata/s':>9} {'st/s':>9} {'ort/s':>9} {'vs st':>6} {'vs ort':>6}")
    for r in rows:
        print(f"{r['sentences']:<11} {r['batch']:>5} {r['threads']:>7} {r['strata']:>9.1f} {r['sentence_transformers']:>9.1f} "
              f"{r['onnxruntime']:>9.1f} {r['vs_st']:>6.2f} {r['vs_onnxruntime']:>6.2f}")


if __name__ == "__main__":
    main()
