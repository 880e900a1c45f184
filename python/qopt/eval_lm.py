#!/usr/bin/env python3
"""Mean cross-entropy of a compiled byte-level LM over evaluation windows.

    /usr/bin/python3 python/qopt/eval_lm.py MODEL.so TOKENS.bin [--window 129]

TOKENS.bin is uint8 [N, window] row-major; for each row w the model gets
w[:-1] (int64 [1, window-1]) and is scored on the targets w[1:]. A KV-cache
decoder compiled with in-place caches is run as one prefill per window
(past length 0) through the runtime's decoder. Prints the
mean over all targets in nats/byte and bits/byte (log-softmax in float64).
"""
import argparse
import math
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from qopt.runtime import Model  # noqa: E402


def cross_entropy(model, windows):
    total, count = 0.0, 0
    kv = None
    if any(i.name.startswith("past_key_values.") for i in model.inputs):
        kv = model.decoder(windows.shape[1])
    for w in windows:
        ids = w[:-1].astype(np.int64)[None, :]
        if kv is not None:
            kv.reset()
            logits = kv.step(ids[0], all_rows=True)
        else:
            out = model.run([ids])
            logits = (out[0] if isinstance(out, (list, tuple)) else next(iter(out.values())))
        logits = np.asarray(logits, dtype=np.float64).reshape(ids.shape[1], -1)
        m = logits.max(axis=-1, keepdims=True)
        logp = logits - m - np.log(np.exp(logits - m).sum(axis=-1, keepdims=True))
        tgt = w[1:].astype(np.int64)
        total += -logp[np.arange(len(tgt)), tgt].sum()
        count += len(tgt)
    return total / count


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("tokens")
    ap.add_argument("--window", type=int, default=129)
    ap.add_argument("--limit", type=int, default=0, help="evaluate only the first N windows")
    ap.add_argument("--reference", type=float, help="expected nats/byte; exit 1 if off by more than --tol")
    ap.add_argument("--tol", type=float, default=1e-4)
    args = ap.parse_args()
    data = np.fromfile(args.tokens, dtype=np.uint8)
    if data.size % args.window:
        sys.exit(f"{args.tokens}: size {data.size} is not a multiple of the window {args.window}")
    windows = data.reshape(-1, args.window)
    if args.limit:
        windows = windows[: args.limit]
    model = Model(args.model)
    t0 = time.time()
    nats = cross_entropy(model, windows)
    dt = time.time() - t0
    print(f"windows={len(windows)} nats={nats:.6f} bpb={nats / math.log(2):.6f} seconds={dt:.2f}")
    if args.reference is not None:
        diff = abs(nats - args.reference)
        print(f"reference={args.reference:.6f} diff={diff:.2e} tol={args.tol:g}")
        if diff > args.tol:
            sys.exit(1)


if __name__ == "__main__":
    main()
