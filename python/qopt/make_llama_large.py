#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
"""A Llama-shaped ONNX model with random weights stored as external data, for
the scale test (issue 6): by default TinyLlama-1.1B's shape (d_model 2048,
22 layers, 32 query heads and 4 key/value heads of 64, SwiGLU hidden 5632,
vocab 32000, untied embeddings): 1,100,048,384 parameters, 4.4 GB of f32
weights, more than protobuf's 2 GB limit, so every weight lives in one
external file `NAME.weights.bin` next to `NAME.onnx`.

    make_llama_large.py OUTDIR [--layers N] [--seq S] [--name NAME]

The graph follows llama-tiny's conventions (../shared/models/llama-tiny):
linear layers are MatMul(x, W_t) with W_t [in, out] named
layers.<i>.self_attn.{q,k,v,o}_proj.weight_t, layers.<i>.mlp.{gate,up,down}_proj
.weight_t and lm_head.weight_t; RMSNorm is x / Sqrt(ReduceMean(x^2) + eps) * w;
RoPE is rotate-half with constant cos/sin tables; the causal mask is additive.
Weights are streamed to disk one tensor at a time (peak memory is one
tensor), with N(0, 0.02) entries (norm weights 1).
"""
import argparse
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

D, HEADS, KV_HEADS, HEAD_DIM, FF, VOCAB = 2048, 32, 4, 64, 5632, 32000


class Builder:
    def __init__(self, outdir, name):
        self.nodes, self.inits, self.count = [], [], 0
        self.data_name = name + ".weights.bin"
        self.data = open(os.path.join(outdir, self.data_name), "wb")
        self.offset = 0
        self.rng = np.random.default_rng(0)
        self.params = 0

    def tmp(self, base):
        self.count += 1
        return "%s_%d" % (base, self.count)

    def node(self, op, inputs, base=None, **attrs):
        out = self.tmp(base or op.lower())
        self.nodes.append(helper.make_node(op, inputs, [out], name="/" + out,
                                           **attrs))
        return out

    def weight(self, name, shape, fill=None):
        """Streams one f32 tensor to the external file (64-byte aligned)."""
        pad = (-self.offset) % 64
        if pad:
            self.data.write(b"\0" * pad)
            self.offset += pad
        n = int(np.prod(shape))
        chunk = 1 << 24
        for start in range(0, n, chunk):
            m = min(chunk, n - start)
            if fill is None:
                a = self.rng.standard_normal(m, dtype=np.float32)
                a *= np.float32(0.02)
            else:
                a = np.full(m, fill, np.float32)
            self.data.write(a.tobytes())
        t = TensorProto()
        t.name = name
        t.data_type = TensorProto.FLOAT
        t.dims.extend(shape)
        t.data_location = TensorProto.EXTERNAL
        for k, v in (("location", self.data_name), ("offset", str(self.offset)),
                     ("length", str(n * 4))):
            e = t.external_data.add()
            e.key, e.value = k, v
        self.offset += n * 4
        self.params += n
        self.inits.append(t)
        return name

    def const(self, name, array):
        self.inits.append(numpy_helper.from_array(array, name))
        return name


def rms_norm(b, x, w):
    sq = b.node("Mul", [x, x], "sq")
    mean = b.node("ReduceMean", [sq], "mean", axes=[-1], keepdims=1)
    var = b.node("Add", [mean, "eps"], "var")
    den = b.node("Sqrt", [var], "den")
    return b.node("Mul", [b.node("Div", [x, den], "normed"), w], "scaled")


def heads(b, x, n, seq):
    """[1, S, n*64] -> [1, n, S, 64]."""
    shape = b.const(b.tmp("shape"), np.array([1, seq, n, HEAD_DIM], np.int64))
    r = b.node("Reshape", [x, shape], "split_heads")
    return b.node("Transpose", [r], "heads", perm=[0, 2, 1, 3])


def rope(b, x):
    lo = b.node("Slice", [x, "zero1", "half1", "last1"], "x_lo")
    hi = b.node("Slice", [x, "half1", "dim1", "last1"], "x_hi")
    rot = b.node("Concat", [b.node("Neg", [hi], "neg"), lo], "rot", axis=-1)
    return b.node("Add", [b.node("Mul", [x, "cos"], "xc"),
                          b.node("Mul", [rot, "sin"], "rs")], "roped")


def repeat_kv(b, x, seq):
    """[1, 4, S, 64] -> [1, 32, S, 64] (grouped-query attention)."""
    u = b.node("Unsqueeze", [x, "axis2"], "kv5")
    e = b.node("Expand", [u, b.const(b.tmp("expand"), np.array(
        [1, KV_HEADS, HEADS // KV_HEADS, seq, HEAD_DIM], np.int64))], "kvrep")
    return b.node("Reshape", [e, b.const(b.tmp("shape"), np.array(
        [1, HEADS, seq, HEAD_DIM], np.int64))], "kv")


def layer(b, i, x, seq):
    p = "layers.%d." % i
    h = rms_norm(b, x, b.weight(p + "input_layernorm.weight", [D], 1.0))
    lin = lambda v, name, n_in, n_out: b.node(
        "MatMul", [v, b.weight(p + name + ".weight_t", [n_in, n_out])],
        name.replace(".", "_"))
    q = rope(b, heads(b, lin(h, "self_attn.q_proj", D, D), HEADS, seq))
    k = rope(b, heads(b, lin(h, "self_attn.k_proj", D, KV_HEADS * HEAD_DIM),
                      KV_HEADS, seq))
    v = heads(b, lin(h, "self_attn.v_proj", D, KV_HEADS * HEAD_DIM), KV_HEADS,
              seq)
    k, v = repeat_kv(b, k, seq), repeat_kv(b, v, seq)
    kt = b.node("Transpose", [k], "kt", perm=[0, 1, 3, 2])
    s = b.node("Mul", [b.node("MatMul", [q, kt], "qk"), "inv_sqrt"], "scores")
    attn = b.node("Softmax", [b.node("Add", [s, "mask"], "masked")], "probs",
                  axis=-1)
    o = b.node("Transpose", [b.node("MatMul", [attn, v], "av")], "o",
               perm=[0, 2, 1, 3])
    o = b.node("Reshape", [o, b.const(b.tmp("shape"), np.array(
        [1, seq, D], np.int64))], "merge_heads")
    x = b.node("Add", [x, lin(o, "self_attn.o_proj", D, D)], "resid")
    h = rms_norm(b, x, b.weight(p + "post_attention_layernorm.weight", [D],
                                1.0))
    g = lin(h, "mlp.gate_proj", D, FF)
    silu = b.node("Mul", [g, b.node("Sigmoid", [g], "sig")], "silu")
    m = b.node("Mul", [silu, lin(h, "mlp.up_proj", D, FF)], "gated")
    return b.node("Add", [x, lin(m, "mlp.down_proj", FF, D)], "resid")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--layers", type=int, default=22)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--name", default="llama-1b")
    a = ap.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    seq = a.seq
    b = Builder(a.outdir, a.name)

    pos = np.arange(seq, dtype=np.float64)[:, None]
    inv = 10000.0 ** (-np.arange(0, HEAD_DIM, 2, dtype=np.float64) / HEAD_DIM)
    ang = np.concatenate([pos * inv, pos * inv], axis=-1)
    b.const("cos", np.cos(ang).astype(np.float32))
    b.const("sin", np.sin(ang).astype(np.float32))
    b.const("mask", np.triu(np.full((seq, seq), -10000.0, np.float32), 1))
    b.const("eps", np.array(1e-5, np.float32))
    b.const("inv_sqrt", np.array(1.0 / np.sqrt(HEAD_DIM), np.float32))
    for n, v in (("zero1", 0), ("half1", HEAD_DIM // 2), ("dim1", HEAD_DIM),
                 ("last1", -1), ("axis2", 2)):
        b.const(n, np.array([v], np.int64))

    x = b.node("Gather", [b.weight("embed_tokens.weight", [VOCAB, D]),
                          "input_ids"], "embed", axis=0)
    for i in range(a.layers):
        x = layer(b, i, x, seq)
        print("layer %d/%d written" % (i + 1, a.layers), file=sys.stderr)
    x = rms_norm(b, x, b.weight("norm.weight", [D], 1.0))
    logits = b.node("MatMul", [x, b.weight("lm_head.weight_t", [D, VOCAB])],
                    "lm_head")
    b.nodes.append(helper.make_node("Identity", [logits], ["logits"],
                                    name="/logits"))
    b.data.close()

    graph = helper.make_graph(
        b.nodes, a.name,
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64,
                                       [1, seq])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT,
                                       [1, seq, VOCAB])],
        b.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = os.path.join(a.outdir, a.name + ".onnx")
    with open(path + ".tmp", "wb") as f:
        f.write(model.SerializeToString())
    os.replace(path + ".tmp", path)
    print("%s: %d parameters, %d weight bytes in %s" % (
        path, b.params, b.offset, b.data_name))


if __name__ == "__main__":
    main()
