#!/usr/bin/env python3
"""GPTQ / AWQ / bias-correction lit helper.

    gptq_model.py gen OUTDIR        writes OUTDIR/model.mlir (one matmul
        x[64,16] @ W[16,8] with qopt.hessian = 2/M X^T X of correlated
        calibration rows X [256,16], qopt.act_mean_abs), X.npy, W.npy
    gptq_model.py check OUTDIR BITS GS < IR
        parses the quantized weight (i8 [16,8] + f32 scales) from the IR,
        computes the output error ||X (Wq - W)||^2 on the calibration rows
        and the one of round-to-nearest (numpy, same grid), prints
        "OK ratio=..." when the IR's error is lower, else fails.
"""
import os
import re
import sys

import numpy as np

K, N, M = 16, 8, 256


def fmt(a):
    return "dense<" + np.array2string(
        a, separator=",", threshold=1 << 20, max_line_width=1 << 20,
        formatter={"float_kind": lambda v: "%.8e" % v}) + ">"


def gen(out):
    rng = np.random.default_rng(3)
    # Correlated inputs with uneven channel magnitudes (what GPTQ exploits).
    mix = rng.standard_normal((K, K)) * 0.5 + np.eye(K) * 2
    x = (rng.standard_normal((M, K)) @ mix * np.linspace(0.2, 3, K)).astype(np.float32)
    w = (rng.standard_normal((K, N)) * 0.5).astype(np.float32)
    h = (2.0 / M * x.T.astype(np.float64) @ x).astype(np.float32)
    mean_abs = np.abs(x).mean(0).astype(np.float32)
    np.save(os.path.join(out, "X.npy"), x)
    np.save(os.path.join(out, "W.npy"), w)
    mlir = f"""func.func @main(%x: tensor<64x{K}xf32>) -> tensor<64x{N}xf32> {{
  %w = arith.constant {fmt(w)} : tensor<{K}x{N}xf32>
  %y = qopt.matmul %x, %w {{qopt.layer = "fc", qopt.hessian = {fmt(h)} : tensor<{K}x{K}xf32>, qopt.act_mean_abs = {fmt(mean_abs)} : tensor<{K}xf32>}} : (tensor<64x{K}xf32>, tensor<{K}x{N}xf32>) -> tensor<64x{N}xf32>
  return %y : tensor<64x{N}xf32>
}}
"""
    with open(os.path.join(out, "model.mlir"), "w") as f:
        f.write(mlir)
    # Two layers sharing the output of a norm-like scale (AWQ folds 1/s
    # into its weight).
    w2 = (rng.standard_normal((K, N)) * 0.5).astype(np.float32)
    g = np.linspace(0.5, 1.5, K).astype(np.float32)
    attrs = (f"qopt.hessian = {fmt(h)} : tensor<{K}x{K}xf32>, "
             f"qopt.act_mean_abs = {fmt(mean_abs)} : tensor<{K}xf32>")
    norm = f"""#id = affine_map<(d0, d1) -> (d0, d1)>
#last = affine_map<(d0, d1) -> (d1)>
func.func @main(%x: tensor<64x{K}xf32>) -> (tensor<64x{N}xf32>, tensor<64x{N}xf32>) {{
  %g = arith.constant {fmt(g)} : tensor<{K}xf32>
  %w1 = arith.constant {fmt(w)} : tensor<{K}x{N}xf32>
  %w2 = arith.constant {fmt(w2)} : tensor<{K}x{N}xf32>
  %e = tensor.empty() : tensor<64x{K}xf32>
  %n = linalg.generic {{indexing_maps = [#id, #last, #id], iterator_types = ["parallel", "parallel"]}}
      ins(%x, %g : tensor<64x{K}xf32>, tensor<{K}xf32>) outs(%e : tensor<64x{K}xf32>) {{
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    linalg.yield %m : f32
  }} -> tensor<64x{K}xf32>
  %y1 = qopt.matmul %n, %w1 {{qopt.layer = "a", {attrs}}} : (tensor<64x{K}xf32>, tensor<{K}x{N}xf32>) -> tensor<64x{N}xf32>
  %y2 = qopt.matmul %n, %w2 {{qopt.layer = "b", {attrs}}} : (tensor<64x{K}xf32>, tensor<{K}x{N}xf32>) -> tensor<64x{N}xf32>
  return %y1, %y2 : tensor<64x{N}xf32>, tensor<64x{N}xf32>
}}
"""
    with open(os.path.join(out, "norm.mlir"), "w") as f:
        f.write(norm)


def dense(ir, ty):
    """The first `dense<...> : tensor<ty>` (list, splat or hex form)."""
    m = re.search(r"dense<([^>]*)> : tensor<" + re.escape(ty) + ">", ir)
    if not m:
        sys.exit(f"FAIL: no constant of type tensor<{ty}> in the IR")
    body = m.group(1)
    shape = [int(d) for d in ty.split("x")[:-1]]
    if body.startswith('"0x'):
        dt = np.int8 if ty.endswith("i8") else np.float32
        a = np.frombuffer(bytes.fromhex(body[3:-1]), dtype=dt)
        return a.astype(np.float64).reshape(shape)
    return np.broadcast_to(np.array(eval(body), dtype=np.float64), shape)


def check(out, bits, gs):
    ir = sys.stdin.read()
    x = np.load(os.path.join(out, "X.npy")).astype(np.float64)
    w = np.load(os.path.join(out, "W.npy")).astype(np.float64)
    qmax = 2 ** (bits - 1) - 1
    q = dense(ir, f"{K}x{N}xi8")
    G = K // gs
    s = dense(ir, f"{G}x{N}xf32" if G > 1 else f"{N}xf32").reshape(G, N)
    if q.min() < -qmax - 1 or q.max() > qmax:
        sys.exit(f"FAIL: values outside the int{bits} range")
    wq = q * np.repeat(s, gs, axis=0)
    # Round to nearest on the same grid (sym, max|w| / qmax per group).
    sr = np.abs(w.reshape(G, gs, N)).max(1) / qmax
    wr = np.clip(np.round(w / np.repeat(sr, gs, axis=0)), -qmax - 1, qmax) * np.repeat(sr, gs, axis=0)
    e = ((x @ (wq - w)) ** 2).sum()
    er = ((x @ (wr - w)) ** 2).sum()
    if not e < er:
        sys.exit(f"FAIL: output error {e:.4g} is not below round-to-nearest's {er:.4g}")
    print(f"OK ratio={e / er:.3f}")


def errors():
    """Every matmul's qopt.out_err <= qopt.rtn_out_err (AWQ's search
    includes alpha = 0, plain round to nearest)."""
    ir = sys.stdin.read()
    pairs = re.findall(r"qopt.out_err = ([0-9.e+-]+) : f64.*?qopt.rtn_out_err = ([0-9.e+-]+) : f64", ir)
    if not pairs:
        sys.exit("FAIL: no qopt.out_err / qopt.rtn_out_err in the IR")
    for e, r in pairs:
        if float(e) > float(r):
            sys.exit(f"FAIL: output error {e} above round-to-nearest's {r}")
    print(f"OK {len(pairs)} layers, ratios " +
          " ".join(f"{float(e) / float(r):.3f}" for e, r in pairs))


if __name__ == "__main__":
    if sys.argv[1] == "errors":
        errors()
        sys.exit(0)
    if sys.argv[1] == "gen":
        gen(sys.argv[2])
    else:
        check(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
