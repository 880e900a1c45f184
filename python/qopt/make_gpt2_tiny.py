#!/usr/bin/env python3
"""A tiny GPT-2-style byte-level LM as ONNX (deterministic random weights).

    /usr/bin/python3 python/qopt/make_gpt2_tiny.py OUT.onnx [--layers 2]
        [--d-model 64] [--heads 4] [--seq 128] [--seed 0]
        [--calib OUT_CALIB.npy --calib-samples 8] [--input OUT_INPUT.npy]

The second architecture of the LLM quantization algorithms (issue 5):
token + learned position embeddings, pre-LN blocks with LayerNormalization
(scale and bias), one fused QKV MatMul + bias and Split, causal softmax
attention, output projection with bias, GELU MLP (erf form) with biases,
final LayerNorm and an lm_head tied to the token embedding. Input
`input_ids` int64 [1, seq], output `logits` float32 [1, seq, 256]; opset 17.

The weights are random (numpy default_rng(seed)) with planted activation
outliers: a few LayerNorm scale channels are 8x larger, as the systematic
outlier features of trained LMs, so SmoothQuant and LLM.int8() have
something to do. --calib / --input write random token windows (a .npy with
a leading sample axis, and one [1, seq] input).
"""
import argparse
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

VOCAB = 256
OUTLIER_CHANNELS = (3, 17)
OUTLIER_GAIN = 8.0


def build(layers, d, heads, seq, seed):
    rng = np.random.default_rng(seed)
    hd = d // heads
    ff = 4 * d
    inits, nodes = [], []

    def const(name, arr):
        inits.append(numpy_helper.from_array(np.asarray(arr), name))
        return name

    def node(op, ins, name, **attrs):
        out = name + "_out"
        nodes.append(helper.make_node(op, ins, [out], name=name, **attrs))
        return out

    def dense(x, k, n, name):
        w = const(name + ".weight_t", rng.normal(0, 1 / np.sqrt(k), (k, n)).astype(np.float32))
        b = const(name + ".bias", rng.normal(0, 0.02, n).astype(np.float32))
        return node("Add", [node("MatMul", [x, w], "/" + name + "/MatMul"), b], "/" + name + "/Add")

    def layernorm(x, name, outliers):
        g = 1 + rng.normal(0, 0.1, d)
        if outliers:
            g[list(OUTLIER_CHANNELS)] *= OUTLIER_GAIN
        gs = const(name + ".weight", g.astype(np.float32))
        bs = const(name + ".bias", rng.normal(0, 0.1, d).astype(np.float32))
        return node("LayerNormalization", [x, gs, bs], "/" + name + "/LayerNorm", axis=-1, epsilon=1e-5)

    wte = rng.normal(0, 0.3, (VOCAB, d)).astype(np.float32)
    const("wte", wte)
    const("wpe", rng.normal(0, 0.1, (seq, d)).astype(np.float32))
    x = node("Add", [node("Gather", ["wte", "input_ids"], "/wte/Gather"), "wpe"], "/embed/Add")
    mask = np.triu(np.full((seq, seq), -10000.0, np.float32), 1)
    const("causal_mask", mask)
    const("split_sizes", np.array([d, d, d], np.int64))
    const("heads_shape", np.array([1, seq, heads, hd], np.int64))
    const("model_shape", np.array([1, seq, d], np.int64))
    const("inv_sqrt_hd", np.array(1 / np.sqrt(hd), np.float32))
    const("half", np.array(0.5, np.float32))
    const("one", np.array(1.0, np.float32))
    const("inv_sqrt2", np.array(1 / np.sqrt(2), np.float32))
    for i in range(layers):
        p = f"h.{i}"
        h = layernorm(x, p + ".ln_1", True)
        qkv = dense(h, d, 3 * d, p + ".attn.c_attn")
        nodes.append(helper.make_node("Split", [qkv, "split_sizes"], [p + "_q", p + "_k", p + "_v"],
                                      name=f"/{p}/attn/Split", axis=-1))
        hq, hk, hv = (node("Transpose", [node("Reshape", [p + "_" + t, "heads_shape"], f"/{p}/attn/{t}/Reshape")],
                           f"/{p}/attn/{t}/Transpose", perm=[0, 2, 1, 3]) for t in "qkv")
        kt = node("Transpose", [hk], f"/{p}/attn/kT", perm=[0, 1, 3, 2])
        s = node("Mul", [node("MatMul", [hq, kt], f"/{p}/attn/QK"), "inv_sqrt_hd"], f"/{p}/attn/scale")
        a = node("Softmax", [node("Add", [s, "causal_mask"], f"/{p}/attn/mask")], f"/{p}/attn/Softmax", axis=-1)
        c = node("MatMul", [a, hv], f"/{p}/attn/AV")
        c = node("Reshape", [node("Transpose", [c], f"/{p}/attn/ctxT", perm=[0, 2, 1, 3]), "model_shape"],
                 f"/{p}/attn/ctx")
        x = node("Add", [x, dense(c, d, d, p + ".attn.c_proj")], f"/{p}/attn/residual")
        h = layernorm(x, p + ".ln_2", True)
        f = dense(h, d, ff, p + ".mlp.c_fc")
        erf = node("Erf", [node("Mul", [f, "inv_sqrt2"], f"/{p}/mlp/gelu/scale")], f"/{p}/mlp/gelu/Erf")
        g = node("Mul", [node("Mul", [f, "half"], f"/{p}/mlp/gelu/half"),
                         node("Add", [erf, "one"], f"/{p}/mlp/gelu/add")], f"/{p}/mlp/gelu/Mul")
        x = node("Add", [x, dense(g, ff, d, p + ".mlp.c_proj")], f"/{p}/mlp/residual")
    h = layernorm(x, "ln_f", False)
    const("lm_head.weight_t", np.ascontiguousarray(wte.T))
    nodes.append(helper.make_node("MatMul", [h, "lm_head.weight_t"], ["logits"], name="/lm_head/MatMul"))
    graph = helper.make_graph(
        nodes, "gpt2-tiny",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, [1, seq])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, seq, VOCAB])],
        initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="qopt-make-gpt2-tiny")
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    return model


def save_npy(path, arr):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        np.save(f, arr)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--d-model", type=int, default=64)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--calib", help="write random calibration windows here (.npy)")
    ap.add_argument("--calib-samples", type=int, default=8)
    ap.add_argument("--input", help="write one random input window here (.npy)")
    args = ap.parse_args()
    if args.d_model % args.heads:
        ap.error("--d-model must be a multiple of --heads")
    model = build(args.layers, args.d_model, args.heads, args.seq, args.seed)
    tmp = args.out + ".tmp"
    onnx.save(model, tmp)
    os.replace(tmp, args.out)
    rng = np.random.default_rng(args.seed + 1)
    if args.calib:
        save_npy(args.calib, rng.integers(0, VOCAB, (args.calib_samples, 1, args.seq), dtype=np.int64))
    if args.input:
        save_npy(args.input, rng.integers(0, VOCAB, (1, args.seq), dtype=np.int64))
    print(f"{args.out}: gpt2-tiny layers={args.layers} d={args.d_model} heads={args.heads} seq={args.seq}")


if __name__ == "__main__":
    main()
