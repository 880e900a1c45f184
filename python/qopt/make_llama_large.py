#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
"""A Llama-shaped ONNX model with random weights stored as external data, for
the scale test (issue 6) and the large decode benchmark (issue 14): by default
TinyLlama-1.1B's shape (d_model 2048, 22 layers, 32 query heads and 4
key/value heads of 64, SwiGLU hidden 5632, vocab 32000, untied embeddings):
1,100,048,384 parameters, 4.4 GB of f32 weights, more than protobuf's 2 GB
limit, so every weight lives in one external file `NAME.weights.bin` next to
`NAME.onnx`.

    make_llama_large.py OUTDIR [--layers N] [--seq S] [--name NAME]
        [--kv [--max-positions 2048]]
        [--d-model D --heads H --kv-heads KV --ff F --vocab V]

The graph follows llama-tiny's conventions (../shared/models/llama-tiny):
linear layers are MatMul(x, W_t) with W_t [in, out] named
layers.<i>.self_attn.{q,k,v,o}_proj.weight_t, layers.<i>.mlp.{gate,up,down}_proj
.weight_t and lm_head.weight_t; RMSNorm is x / Sqrt(ReduceMean(x^2) + eps) * w;
RoPE is rotate-half (base 10000); grouped-query attention repeats each key/value
head HEADS / KV_HEADS times (Unsqueeze, Expand, Reshape, as Hugging Face's
repeat_kv exports). Weights are streamed to disk one tensor at a time (peak
memory is one tensor), with N(0, 0.02) entries (--init-std; norm weights 1), from
numpy default_rng(0) in a fixed order (embedding, layers, norm, lm_head), so
the static and the --kv model with the same sizes have the same weights.

Without --kv: input_ids int64 [1, S] -> logits [1, S, V], constant cos/sin
tables of S positions and a constant additive causal mask (-10000).

--kv: a KV-cache decoder laid out as Hugging Face Optimum exports
`text-generation-with-past` (the layout of llama-tiny-kv.onnx):

  in   input_ids                     int64   [batch_size, sequence_length]
  in   attention_mask                int64   [batch_size, total_sequence_length]
  in   position_ids                  int64   [batch_size, sequence_length]
  in   past_key_values.N.{key,value} float32 [batch_size, KV, past_sequence_length, head_dim]
  out  logits                        float32 [batch_size, sequence_length, V]
  out  present.N.{key,value}         float32 [batch_size, KV, total_sequence_length, head_dim]

present = Concat(past, new) on axis 2 (KV heads: the cache holds the KV
heads, not their repeats); the causal mask is built in the graph from
attention_mask and the shapes (Shape, Gather, Range, LessOrEqual, Greater,
And, Where: 0 where key j <= past + query i and attention_mask[b, j] > 0,
float32 min elsewhere, as Transformers does); RoPE's cos/sin are Gathered by
position_ids from constant tables of --max-positions rows (so positions must
be < --max-positions). The first call passes past tensors of length 0.
"""
import argparse
import os
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

F32_MIN = float(np.finfo(np.float32).min)


class Builder:
    def __init__(self, outdir, name, cfg, std=0.02):
        self.cfg, self.std = cfg, np.float32(std)
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
                a *= self.std
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

    def constant(self, value, dtype):
        """A Constant node (as exporters write small constants)."""
        out = self.tmp("/Constant")
        t = numpy_helper.from_array(np.asarray(value, dtype), out + "_value")
        self.nodes.append(helper.make_node("Constant", [], [out], name=out,
                                           value=t))
        return out


def rms_norm(b, x, w):
    sq = b.node("Mul", [x, x], "sq")
    mean = b.node("ReduceMean", [sq], "mean", axes=[-1], keepdims=1)
    var = b.node("Add", [mean, "eps"], "var")
    den = b.node("Sqrt", [var], "den")
    return b.node("Mul", [b.node("Div", [x, den], "normed"), w], "scaled")


def rope(b, x, cos, sin):
    lo = b.node("Slice", [x, "zero1", "half1", "last1"], "x_lo")
    hi = b.node("Slice", [x, "half1", "dim1", "last1"], "x_hi")
    rot = b.node("Concat", [b.node("Neg", [hi], "neg"), lo], "rot", axis=-1)
    return b.node("Add", [b.node("Mul", [x, cos], "xc"),
                          b.node("Mul", [rot, sin], "rs")], "roped")


class Static:
    """Shapes of the static model: [1, S, ...] constants."""

    def __init__(self, b, seq):
        self.b, self.seq = b, seq
        c = b.cfg
        pos = np.arange(seq, dtype=np.float64)[:, None]
        ang = np.concatenate([pos * c.inv_freq, pos * c.inv_freq], axis=-1)
        self.cos = b.const("cos", np.cos(ang).astype(np.float32))
        self.sin = b.const("sin", np.sin(ang).astype(np.float32))
        self.mask = b.const("mask", np.triu(
            np.full((seq, seq), -10000.0, np.float32), 1))

    def shape(self, *dims):
        return self.b.const(self.b.tmp("shape"), np.array(
            [1, self.seq] + list(dims), np.int64))

    def heads(self, x, n):
        """[1, S, n*hd] -> [1, n, S, hd]."""
        r = self.b.node("Reshape", [x, self.shape(n, self.b.cfg.head_dim)],
                        "split_heads")
        return self.b.node("Transpose", [r], "heads", perm=[0, 2, 1, 3])

    def cache(self, i, k, v):
        return k, v

    def repeat_kv(self, x):
        """[1, KV, S, hd] -> [1, HEADS, S, hd] (grouped-query attention)."""
        b, c = self.b, self.b.cfg
        u = b.node("Unsqueeze", [x, "axis2"], "kv5")
        e = b.node("Expand", [u, b.const(b.tmp("expand"), np.array(
            [1, c.kv_heads, c.heads // c.kv_heads, self.seq, c.head_dim],
            np.int64))], "kvrep")
        return b.node("Reshape", [e, b.const(b.tmp("shape"), np.array(
            [1, c.heads, self.seq, c.head_dim], np.int64))], "kv")

    def merge(self, o):
        return self.b.node("Reshape", [o, self.shape(self.b.cfg.d)],
                           "merge_heads")


class KV:
    """Shapes of the KV decoder: from Shape ops on the dynamic inputs, as
    Optimum's export of a Transformers Llama computes them."""

    def __init__(self, b, max_positions):
        self.b = b
        c = b.cfg
        C = b.constant
        ids_shape = b.node("Shape", ["input_ids"], "Shape")
        self.batch = b.node("Gather", [ids_shape, C(0, np.int64)], "Gather",
                            axis=0)
        self.seqlen = b.node("Gather", [ids_shape, C(1, np.int64)], "Gather",
                             axis=0)
        past = b.node("Gather", [b.node("Shape", ["past_key_values.0.key"],
                                        "Shape"), C(2, np.int64)], "Gather",
                      axis=0)
        total = b.node("Gather", [b.node("Shape", ["attention_mask"], "Shape"),
                                  C(1, np.int64)], "Gather", axis=0)
        # mask [batch, 1, seq, total]: 0 = attend, float32 min = masked
        q_pos = b.node("Range", [C(0, np.int64), self.seqlen, C(1, np.int64)],
                       "Range")
        q_pos = b.node("Add", [b.node("Unsqueeze", [q_pos, C([1], np.int64)],
                                      "Unsqueeze"), past], "Add")
        k_pos = b.node("Range", [C(0, np.int64), total, C(1, np.int64)],
                       "Range")
        k_pos = b.node("Unsqueeze", [k_pos, C([0], np.int64)], "Unsqueeze")
        causal = b.node("LessOrEqual", [k_pos, q_pos], "LessOrEqual")
        causal = b.node("Unsqueeze", [causal, C([0, 1], np.int64)], "Unsqueeze")
        am = b.node("Unsqueeze", ["attention_mask", C([1, 2], np.int64)],
                    "Unsqueeze")
        am = b.node("Greater", [am, C(0, np.int64)], "Greater")
        allowed = b.node("And", [causal, am], "And")
        self.mask = b.node("Where", [allowed, C(0.0, np.float32),
                                     C(F32_MIN, np.float32)], "Where")
        # RoPE: rows of constant cos/sin tables by position_ids -> [b, 1, s, hd]
        pos = np.arange(max_positions, dtype=np.float64)[:, None]
        ang = np.concatenate([pos * c.inv_freq, pos * c.inv_freq], axis=-1)
        b.const("cos_cached", np.cos(ang).astype(np.float32))
        b.const("sin_cached", np.sin(ang).astype(np.float32))
        self.cos = b.node("Unsqueeze", [b.node(
            "Gather", ["cos_cached", "position_ids"], "Gather", axis=0),
            C([1], np.int64)], "Unsqueeze")
        self.sin = b.node("Unsqueeze", [b.node(
            "Gather", ["sin_cached", "position_ids"], "Gather", axis=0),
            C([1], np.int64)], "Unsqueeze")
        self.b1 = b.node("Unsqueeze", [self.batch, C([0], np.int64)],
                         "Unsqueeze")
        self.s1 = b.node("Unsqueeze", [self.seqlen, C([0], np.int64)],
                         "Unsqueeze")
        self.inputs, self.outputs = [], []

    def shape(self, *dims):
        C = self.b.constant
        return self.b.node("Concat", [self.b1, self.s1] + [
            C([d], np.int64) for d in dims], "Concat", axis=0)

    heads = Static.heads
    merge = Static.merge

    def cache(self, i, k, v):
        b, c = self.b, self.b.cfg
        out = []
        for kind, x in (("key", k), ("value", v)):
            past, present = ("past_key_values.%d.%s" % (i, kind),
                             "present.%d.%s" % (i, kind))
            b.nodes.append(helper.make_node("Concat", [past, x], [present],
                                            name="/" + present, axis=2))
            self.inputs.append(helper.make_tensor_value_info(
                past, TensorProto.FLOAT,
                ["batch_size", c.kv_heads, "past_sequence_length", c.head_dim]))
            self.outputs.append(helper.make_tensor_value_info(
                present, TensorProto.FLOAT,
                ["batch_size", c.kv_heads, "total_sequence_length",
                 c.head_dim]))
            out.append(present)
        return out

    def repeat_kv(self, x):
        """[b, KV, T, hd] -> [b, HEADS, T, hd]: x[:, :, None].expand(b, KV,
        rep, T, hd).reshape(b, HEADS, T, hd) with b, T from Shape(x)."""
        b, c = self.b, self.b.cfg
        C = b.constant
        shp = b.node("Shape", [x], "Shape")
        n = b.node("Unsqueeze", [b.node("Gather", [shp, C(0, np.int64)],
                                        "Gather", axis=0), C([0], np.int64)],
                   "Unsqueeze")
        t = b.node("Unsqueeze", [b.node("Gather", [shp, C(2, np.int64)],
                                        "Gather", axis=0), C([0], np.int64)],
                   "Unsqueeze")
        u = b.node("Unsqueeze", [x, C([2], np.int64)], "Unsqueeze")
        e = b.node("Expand", [u, b.node("Concat", [
            n, C([c.kv_heads], np.int64), C([c.heads // c.kv_heads], np.int64),
            t, C([c.head_dim], np.int64)], "Concat", axis=0)], "Expand")
        return b.node("Reshape", [e, b.node("Concat", [
            n, C([c.heads], np.int64), t, C([c.head_dim], np.int64)], "Concat",
            axis=0)], "Reshape")


def layer(b, s, i, x):
    c = b.cfg
    p = "layers.%d." % i
    h = rms_norm(b, x, b.weight(p + "input_layernorm.weight", [c.d], 1.0))
    lin = lambda v, name, n_in, n_out: b.node(
        "MatMul", [v, b.weight(p + name + ".weight_t", [n_in, n_out])],
        name.replace(".", "_"))
    kvd = c.kv_heads * c.head_dim
    q = rope(b, s.heads(lin(h, "self_attn.q_proj", c.d, c.d), c.heads),
             s.cos, s.sin)
    k = rope(b, s.heads(lin(h, "self_attn.k_proj", c.d, kvd), c.kv_heads),
             s.cos, s.sin)
    v = s.heads(lin(h, "self_attn.v_proj", c.d, kvd), c.kv_heads)
    k, v = s.cache(i, k, v)
    k, v = s.repeat_kv(k), s.repeat_kv(v)
    kt = b.node("Transpose", [k], "kt", perm=[0, 1, 3, 2])
    sc = b.node("Mul", [b.node("MatMul", [q, kt], "qk"), "inv_sqrt"], "scores")
    attn = b.node("Softmax", [b.node("Add", [sc, s.mask], "masked")], "probs",
                  axis=-1)
    o = b.node("Transpose", [b.node("MatMul", [attn, v], "av")], "o",
               perm=[0, 2, 1, 3])
    x = b.node("Add", [x, lin(s.merge(o), "self_attn.o_proj", c.d, c.d)],
               "resid")
    h = rms_norm(b, x, b.weight(p + "post_attention_layernorm.weight", [c.d],
                                1.0))
    g = lin(h, "mlp.gate_proj", c.d, c.ff)
    silu = b.node("Mul", [g, b.node("Sigmoid", [g], "sig")], "silu")
    m = b.node("Mul", [silu, lin(h, "mlp.up_proj", c.d, c.ff)], "gated")
    return b.node("Add", [x, lin(m, "mlp.down_proj", c.ff, c.d)], "resid")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--layers", type=int, default=22)
    ap.add_argument("--seq", type=int, default=128,
                    help="static model: the input length")
    ap.add_argument("--name", default=None,
                    help="default: llama-1b (llama-1b-kv with --kv)")
    ap.add_argument("--kv", action="store_true",
                    help="write the KV-cache decoder (Optimum layout)")
    ap.add_argument("--max-positions", type=int, default=2048,
                    help="--kv: rows of the RoPE tables (positions < this)")
    ap.add_argument("--d-model", type=int, default=2048)
    ap.add_argument("--heads", type=int, default=32)
    ap.add_argument("--kv-heads", type=int, default=4)
    ap.add_argument("--ff", type=int, default=5632)
    ap.add_argument("--vocab", type=int, default=32000)
    ap.add_argument("--init-std", type=float, default=0.02,
                    help="standard deviation of the random weights")
    a = ap.parse_args()
    if a.d_model % a.heads or a.heads % a.kv_heads or (a.d_model // a.heads) % 2:
        ap.error("need --d-model = heads x an even head_dim and --heads a "
                 "multiple of --kv-heads")
    name = a.name or ("llama-1b-kv" if a.kv else "llama-1b")
    cfg = argparse.Namespace(d=a.d_model, heads=a.heads, kv_heads=a.kv_heads,
                             head_dim=a.d_model // a.heads, ff=a.ff,
                             vocab=a.vocab)
    hd = cfg.head_dim
    cfg.inv_freq = 10000.0 ** (-np.arange(0, hd, 2, dtype=np.float64) / hd)
    os.makedirs(a.outdir, exist_ok=True)
    b = Builder(a.outdir, name, cfg, a.init_std)

    s = KV(b, a.max_positions) if a.kv else Static(b, a.seq)
    b.const("eps", np.array(1e-5, np.float32))
    b.const("inv_sqrt", np.array(1.0 / np.sqrt(hd), np.float32))
    for n, v in (("zero1", 0), ("half1", hd // 2), ("dim1", hd),
                 ("last1", -1)) + ((("axis2", 2),) if not a.kv else ()):
        b.const(n, np.array([v], np.int64))

    x = b.node("Gather", [b.weight("embed_tokens.weight", [cfg.vocab, cfg.d]),
                          "input_ids"], "embed", axis=0)
    for i in range(a.layers):
        x = layer(b, s, i, x)
        print("layer %d/%d written" % (i + 1, a.layers), file=sys.stderr)
    x = rms_norm(b, x, b.weight("norm.weight", [cfg.d], 1.0))
    logits = b.node("MatMul", [x, b.weight("lm_head.weight_t",
                                           [cfg.d, cfg.vocab])], "lm_head")
    b.nodes.append(helper.make_node("Identity", [logits], ["logits"],
                                    name="/logits"))
    b.data.close()

    if a.kv:
        ins = [helper.make_tensor_value_info(n, TensorProto.INT64, [
            "batch_size", d]) for n, d in (
                ("input_ids", "sequence_length"),
                ("attention_mask", "total_sequence_length"),
                ("position_ids", "sequence_length"))] + s.inputs
        outs = [helper.make_tensor_value_info(
            "logits", TensorProto.FLOAT,
            ["batch_size", "sequence_length", cfg.vocab])] + s.outputs
    else:
        ins = [helper.make_tensor_value_info("input_ids", TensorProto.INT64,
                                             [1, a.seq])]
        outs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT,
                                              [1, a.seq, cfg.vocab])]
    graph = helper.make_graph(b.nodes, name, ins, outs, b.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = os.path.join(a.outdir, name + ".onnx")
    with open(path + ".tmp", "wb") as f:
        f.write(model.SerializeToString())
    os.replace(path + ".tmp", path)
    print("%s: %d parameters, %d weight bytes in %s" % (
        path, b.params, b.offset, b.data_name))


if __name__ == "__main__":
    main()
