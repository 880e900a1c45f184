#!/usr/bin/env python3
"""qopt-reconstruct lit helper (the model and data of gptq_model.py gen).

    reconstruct_check.py OUTDIR BITS GS SCHEME [--local] [--gptq G.mlir] < IR

Parses the quantized weight (i8 values, f32 scales, i8 zero points) from
the IR and, in float64 numpy on the calibration rows X:
  - recomputes the output error E = ||X (Wq - W)||^2 and checks it against
    the IR's qopt.out_err (relative error x signal ||X W||^2);
  - checks E <= the start's error (qopt.start_out_err) and E < the error of
    round-to-nearest on the same grid, computed here;
  - --local: no single integer moved by +-1 (within the range) lowers E
    (a coordinate-descent fixed point; for scales=false);
  - --gptq G.mlir: the start is qopt-gptq's result (same error) and E is
    at most that.
Prints "OK ratio=E/E_rtn" or fails.
"""
import os
import re
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from gptq_model import K, N, dense  # noqa: E402


def attr(ir, name):
    m = re.search(name + r" = ([0-9.eE+-]+) : f64", ir)
    if not m:
        sys.exit(f"FAIL: no {name} in the IR")
    return float(m.group(1))


def rtn(w, bits, gs, sym):
    qmin, qmax = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    G = K // gs
    wg = w.astype(np.float32).reshape(G, gs, N)
    if sym:
        s = np.abs(wg).max(1) / np.float32(qmax)
        z = np.zeros_like(s)
    else:
        lo, hi = np.minimum(wg.min(1), 0), np.maximum(wg.max(1), 0)
        s = (hi - lo) / np.float32(qmax - qmin)
        z = np.clip(np.round(qmin - lo / s), qmin, qmax)
    s, z = np.repeat(s, gs, 0), np.repeat(z, gs, 0)
    q = np.clip(np.round(w.astype(np.float32) / s) + z, qmin, qmax)
    return ((q - z) * s).astype(np.float64)


def main():
    out, bits, gs, scheme = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    ir = sys.stdin.read()
    x = np.load(os.path.join(out, "X.npy")).astype(np.float64)
    w = np.load(os.path.join(out, "W.npy")).astype(np.float64)
    G = K // gs
    pty = f"{G}x{N}" if G > 1 else f"{N}"
    q = dense(ir, f"{K}x{N}xi8")
    s = np.repeat(dense(ir, f"{pty}xf32").reshape(G, N), gs, 0)
    z = np.repeat(dense(ir, f"{pty}xi8").reshape(G, N), gs, 0) if scheme == "asym" else 0 * s
    qmin, qmax = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    if q.min() < qmin or q.max() > qmax:
        sys.exit(f"FAIL: values outside the int{bits} range")
    err = lambda wq: ((x @ (wq - w)) ** 2).sum()
    wq = (q - z) * s
    e, er, sig = err(wq), err(rtn(w, bits, gs, scheme == "sym")), ((x @ w) ** 2).sum()
    rel, start = attr(ir, "qopt.out_err"), attr(ir, "qopt.start_out_err")
    if abs(e / sig - rel) > 1e-4 * rel:
        sys.exit(f"FAIL: recomputed relative error {e / sig:.6g} != IR's {rel:.6g}")
    if not (rel <= start and e < er):
        sys.exit(f"FAIL: error {e:.6g} (rel {rel:.6g}) vs start {start:.6g}, RTN {er:.6g}")
    if "--local" in sys.argv:
        d = x @ (wq - w)
        for k in range(K):
            for n in range(N):
                for step in (-1, 1):
                    if not qmin <= q[k, n] + step <= qmax:
                        continue
                    dd = d[:, n] + x[:, k] * step * s[k, n]
                    if (dd ** 2).sum() < (d[:, n] ** 2).sum() * (1 - 1e-9):
                        sys.exit(f"FAIL: moving value [{k}, {n}] by {step} lowers the error")
    if "--gptq" in sys.argv:
        g = open(sys.argv[sys.argv.index("--gptq") + 1]).read()
        ge = attr(g, "qopt.out_err")
        if abs(ge - start) > 1e-9 * ge or not rel <= ge:
            sys.exit(f"FAIL: start {start:.6g} / result {rel:.6g} vs qopt-gptq's {ge:.6g}")
    print(f"OK ratio={e / er:.3f}")


if __name__ == "__main__":
    main()
