#!/usr/bin/env python3
"""A tiny GPT-2-style byte-level LM as an ONNX KV-cache decoder (Optimum layout).

    /usr/bin/python3 python/qopt/make_gpt2_kv.py OUT.onnx [--layers 2]
        [--d-model 64] [--heads 4] [--seq 128] [--seed 0]
        [--prompts OUT_PROMPTS.npy --prompt-count 4 --prompt-len 32]

The same network and the same weights as make_gpt2_tiny.py with the same
--layers/--d-model/--heads/--seq/--seed (the weights are taken from its
build(), so the two always agree), exported the way Hugging Face Optimum
exports `text-generation-with-past` decoders, like llama-tiny-kv.onnx:

  in   input_ids                     int64   [batch_size, sequence_length]
  in   attention_mask                int64   [batch_size, total_sequence_length]
  in   position_ids                  int64   [batch_size, sequence_length]
  in   past_key_values.N.{key,value} float32 [batch_size, heads, past_sequence_length, head_dim]
  out  logits                        float32 [batch_size, sequence_length, 256]
  out  present.N.{key,value}         float32 [batch_size, heads, total_sequence_length, head_dim]

Token embedding + learned position embedding gathered by position_ids (so
positions must be < --seq, the number of wpe rows); pre-LN blocks with
LayerNormalization (scale, bias); one fused QKV MatMul + bias and Split;
present = Concat(past, new) on the sequence axis; causal softmax attention
whose additive mask is built in the graph from attention_mask and the shapes
(Shape, Gather, Range, Unsqueeze, LessOrEqual, Greater, And, Where: 0 where
key j <= past + query i and attention_mask[b, j] > 0, float32 min elsewhere,
as Transformers does); output projection with bias; GELU MLP (erf form);
final LayerNorm; lm_head tied to the token embedding (its transpose). Every
dim of the interface is dynamic. Opset 17, IR version 8, default domain only.
The first call (prefill) passes past tensors with past_sequence_length 0.

--prompts writes --prompt-count random byte prompts of --prompt-len bytes,
int64 [count, len], from numpy default_rng(seed + 1) (as make_gpt2_tiny.py's
--input). Everything is deterministic: the same arguments give the same bytes.
"""
import argparse
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_gpt2_tiny  # noqa: E402

VOCAB = make_gpt2_tiny.VOCAB
F32_MIN = float(np.finfo(np.float32).min)


def tiny_weights(layers, d, heads, seq, seed):
    """The initializers of make_gpt2_tiny.build(...) as numpy arrays by name."""
    tiny = make_gpt2_tiny.build(layers, d, heads, seq, seed)
    return {t.name: numpy_helper.to_array(t) for t in tiny.graph.initializer}


def build(layers, d, heads, seq, seed):
    W = tiny_weights(layers, d, heads, seq, seed)
    hd = d // heads
    inits, nodes = [], []
    counter = [0]

    def weight(name):
        inits.append(numpy_helper.from_array(W[name], name))
        return name

    def const(value, dtype, name=None):
        counter[0] += 1
        out = name or f"/Constant_{counter[0]}_output_0"
        t = numpy_helper.from_array(np.asarray(value, dtype), out + "_value")
        nodes.append(helper.make_node("Constant", [], [out], name=f"/Constant_{counter[0]}", value=t))
        return out

    def node(op, ins, name, **attrs):
        out = name + "_output_0"
        nodes.append(helper.make_node(op, ins, [out], name=name, **attrs))
        return out

    def dense(x, k, n, name):
        mm = node("MatMul", [x, weight(name + ".weight_t")], "/" + name + "/MatMul")
        return node("Add", [mm, weight(name + ".bias")], "/" + name + "/Add")

    def layernorm(x, name):
        return node("LayerNormalization", [x, weight(name + ".weight"), weight(name + ".bias")],
                    "/" + name + "/LayerNorm", axis=-1, epsilon=1e-5)

    # ---- shapes: batch, sequence, past and total lengths (int64 scalars) ----
    ids_shape = node("Shape", ["input_ids"], "/Shape")
    batch = node("Gather", [ids_shape, const(0, np.int64)], "/Gather", axis=0)
    seqlen = node("Gather", [ids_shape, const(1, np.int64)], "/Gather_1", axis=0)
    past_shape = node("Shape", ["past_key_values.0.key"], "/Shape_1")
    past = node("Gather", [past_shape, const(2, np.int64)], "/Gather_2", axis=0)
    am_shape = node("Shape", ["attention_mask"], "/Shape_2")
    total = node("Gather", [am_shape, const(1, np.int64)], "/Gather_3", axis=0)

    # ---- attention mask [batch, 1, seq, total]: 0 = attend, float32 min = masked ----
    q_pos = node("Range", [const(0, np.int64), seqlen, const(1, np.int64)], "/Range")
    q_pos = node("Add", [node("Unsqueeze", [q_pos, const([1], np.int64)], "/Unsqueeze"), past], "/Add")
    k_pos = node("Range", [const(0, np.int64), total, const(1, np.int64)], "/Range_1")
    k_pos = node("Unsqueeze", [k_pos, const([0], np.int64)], "/Unsqueeze_1")
    causal = node("LessOrEqual", [k_pos, q_pos], "/LessOrEqual")                      # [seq, total]
    causal = node("Unsqueeze", [causal, const([0, 1], np.int64)], "/Unsqueeze_2")     # [1, 1, seq, total]
    am = node("Unsqueeze", ["attention_mask", const([1, 2], np.int64)], "/Unsqueeze_3")  # [b, 1, 1, total]
    am = node("Greater", [am, const(0, np.int64)], "/Greater")
    allowed = node("And", [causal, am], "/And")                                       # [b, 1, seq, total]
    mask = node("Where", [allowed, const(0.0, np.float32), const(F32_MIN, np.float32)], "/Where")

    # ---- reshape targets [b, s, heads, hd] and [b, s, d] ----
    b1 = node("Unsqueeze", [batch, const([0], np.int64)], "/Unsqueeze_4")
    s1 = node("Unsqueeze", [seqlen, const([0], np.int64)], "/Unsqueeze_5")
    heads_shape = node("Concat", [b1, s1, const([heads], np.int64), const([hd], np.int64)], "/Concat", axis=0)
    model_shape = node("Concat", [b1, s1, const([d], np.int64)], "/Concat_1", axis=0)

    # ---- embeddings ----
    tok = node("Gather", [weight("wte"), "input_ids"], "/wte/Gather")
    pos = node("Gather", [weight("wpe"), "position_ids"], "/wpe/Gather")
    x = node("Add", [tok, pos], "/embed/Add")

    split_sizes = const([d, d, d], np.int64)
    inv_sqrt_hd = const(1 / np.sqrt(hd), np.float32)
    half = const(0.5, np.float32)
    one = const(1.0, np.float32)
    inv_sqrt2 = const(1 / np.sqrt(2), np.float32)
    inputs, outputs = [], []
    kv_in = ["batch_size", heads, "past_sequence_length", hd]
    kv_out = ["batch_size", heads, "total_sequence_length", hd]
    for i in range(layers):
        p = f"h.{i}"
        h = layernorm(x, p + ".ln_1")
        qkv = dense(h, d, 3 * d, p + ".attn.c_attn")
        nodes.append(helper.make_node("Split", [qkv, split_sizes], [f"/{p}/attn/{t}" for t in "qkv"],
                                      name=f"/{p}/attn/Split", axis=-1))
        hq, hk, hv = (node("Transpose", [node("Reshape", [f"/{p}/attn/{t}", heads_shape], f"/{p}/attn/{t}/Reshape")],
                           f"/{p}/attn/{t}/Transpose", perm=[0, 2, 1, 3]) for t in "qkv")
        pk, pv = f"past_key_values.{i}.key", f"past_key_values.{i}.value"
        ok, ov = f"present.{i}.key", f"present.{i}.value"
        nodes.append(helper.make_node("Concat", [pk, hk], [ok], name=f"/{p}/attn/Concat_key", axis=2))
        nodes.append(helper.make_node("Concat", [pv, hv], [ov], name=f"/{p}/attn/Concat_value", axis=2))
        inputs += [helper.make_tensor_value_info(n, TensorProto.FLOAT, kv_in) for n in (pk, pv)]
        outputs += [helper.make_tensor_value_info(n, TensorProto.FLOAT, kv_out) for n in (ok, ov)]
        kt = node("Transpose", [ok], f"/{p}/attn/kT", perm=[0, 1, 3, 2])
        s = node("Mul", [node("MatMul", [hq, kt], f"/{p}/attn/QK"), inv_sqrt_hd], f"/{p}/attn/scale")
        a = node("Softmax", [node("Add", [s, mask], f"/{p}/attn/mask")], f"/{p}/attn/Softmax", axis=-1)
        c = node("MatMul", [a, ov], f"/{p}/attn/AV")
        c = node("Reshape", [node("Transpose", [c], f"/{p}/attn/ctxT", perm=[0, 2, 1, 3]), model_shape],
                 f"/{p}/attn/ctx")
        x = node("Add", [x, dense(c, d, d, p + ".attn.c_proj")], f"/{p}/attn/residual")
        h = layernorm(x, p + ".ln_2")
        f = dense(h, d, 4 * d, p + ".mlp.c_fc")
        erf = node("Erf", [node("Mul", [f, inv_sqrt2], f"/{p}/mlp/gelu/scale")], f"/{p}/mlp/gelu/Erf")
        g = node("Mul", [node("Mul", [f, half], f"/{p}/mlp/gelu/half"),
                         node("Add", [erf, one], f"/{p}/mlp/gelu/add")], f"/{p}/mlp/gelu/Mul")
        x = node("Add", [x, dense(g, 4 * d, d, p + ".mlp.c_proj")], f"/{p}/mlp/residual")
    h = layernorm(x, "ln_f")
    nodes.append(helper.make_node("MatMul", [h, weight("lm_head.weight_t")], ["logits"], name="/lm_head/MatMul"))

    graph_inputs = [
        helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch_size", "sequence_length"]),
        helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch_size", "total_sequence_length"]),
        helper.make_tensor_value_info("position_ids", TensorProto.INT64, ["batch_size", "sequence_length"]),
    ] + inputs
    graph_outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT,
                                                   ["batch_size", "sequence_length", VOCAB])] + outputs
    graph = helper.make_graph(nodes, "gpt2-kv", graph_inputs, graph_outputs, initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="qopt-make-gpt2-kv")
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
    ap.add_argument("--seq", type=int, default=128,
                    help="learned positions (wpe rows): position_ids must be < this")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--prompts", help="write random byte prompts here (.npy, int64 [count, len])")
    ap.add_argument("--prompt-count", type=int, default=4)
    ap.add_argument("--prompt-len", type=int, default=32)
    args = ap.parse_args()
    if args.d_model % args.heads:
        ap.error("--d-model must be a multiple of --heads")
    model = build(args.layers, args.d_model, args.heads, args.seq, args.seed)
    tmp = args.out + ".tmp"
    onnx.save(model, tmp)
    os.replace(tmp, args.out)
    if args.prompts:
        rng = np.random.default_rng(args.seed + 1)
        save_npy(args.prompts, rng.integers(0, VOCAB, (args.prompt_count, args.prompt_len), dtype=np.int64))
    print(f"{args.out}: gpt2-kv layers={args.layers} d={args.d_model} heads={args.heads} "
          f"positions={args.seq} seed={args.seed}")


if __name__ == "__main__":
    main()
