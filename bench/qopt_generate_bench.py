#!/usr/bin/env python3
"""Prefill / decode speed of a compiled KV decoder through the runtime's
qopt_decoder (in-place caches), measured as bench/ort_generate.js --bench
measures ONNX Runtime, so the two print comparable JSON lines:

  prefill:  one step with P prompt tokens (past 0), median over reps;
  decode:   prefill C tokens (untimed), then N single-token steps (past C ..
            C+N-1) timed together; median over reps.

    /usr/bin/python3 bench/qopt_generate_bench.py MODEL.so [--threads 1]
        [--reps 5] [--prefill-len 128] [--contexts 128,1024]
        [--decode-tokens 64]
"""
import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
from qopt.runtime import Model  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--prefill-len", type=int, default=128)
    ap.add_argument("--contexts", default="128,1024")
    ap.add_argument("--decode-tokens", type=int, default=64)
    a = ap.parse_args()
    ctxs = [int(c) for c in a.contexts.split(",") if c]
    m = Model(a.model)
    m.set_num_threads(a.threads)
    cap = max([a.prefill_len] + ctxs) + a.decode_tokens
    d = m.decoder(cap)
    rng = np.random.default_rng(0)
    ids = rng.integers(32, 127, cap).astype(np.int64) % d.vocab
    common = {"model": os.path.basename(a.model), "nproc": os.cpu_count(),
              "load1": round(os.getloadavg()[0], 2), "threads": a.threads}

    def prefill():
        d.reset()
        t = time.perf_counter()
        d.step(ids[:a.prefill_len])
        return time.perf_counter() - t

    prefill()  # warm-up (weights paged in)
    times = sorted(prefill() for _ in range(a.reps))
    med = times[len(times) // 2]
    print(json.dumps(dict(bench="prefill", **common, tokens=a.prefill_len,
                          reps=a.reps, median_ms=round(med * 1e3, 4),
                          tok_s=round(a.prefill_len / med, 1))))
    for c in ctxs:
        def decode():
            d.reset()
            d.step(ids[:c])
            t = time.perf_counter()
            for k in range(a.decode_tokens):
                d.step(ids[c + k:c + k + 1])
            return time.perf_counter() - t
        decode()
        times = sorted(decode() for _ in range(a.reps))
        med = times[len(times) // 2]
        print(json.dumps(dict(bench="decode", **common, context=c,
                              tokens=a.decode_tokens, reps=a.reps,
                              median_ms=round(med * 1e3, 4),
                              ms_per_token=round(med * 1e3 / a.decode_tokens, 4),
                              tok_s=round(a.decode_tokens / med, 1))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
