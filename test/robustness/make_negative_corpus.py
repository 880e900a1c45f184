#!/usr/bin/env python3
"""Writes a corpus of malformed inputs for qopt-compile / qopt-run.

    make_negative_corpus.py OUT_DIR

OUT_DIR/cases.json lists every case; run_negative.py runs them. Each case:

    name     unique id (also the stem of its model file)
    tool     "qopt-compile" or "qopt-run"
    args     argument list; placeholders: {dir} corpus dir, {out} output
             stem (qopt-compile: {out}.so/.weights/.h; qopt-run:
             {out}.outdir), {model} a valid compiled model (.so; built by
             the runner from good_add.onnx), {onnx} the valid .onnx model
    mention  substrings that must all appear in stderr (the file, node or
             tensor name the error is about)

Needs onnx (1.12 is enough) and numpy; uses no onnx.checker on purpose.
"""
import json
import os
import struct
import sys

import numpy as np
from onnx import AttributeProto, TensorProto, helper, numpy_helper

OPSET = 17


def model(nodes, inputs, outputs, inits=(), opset=OPSET, ir=8, extra_opsets=()):
    g = helper.make_graph(nodes, "g", inputs, outputs, initializer=list(inits))
    ops = [helper.make_opsetid("", opset)] + [helper.make_opsetid(d, v) for d, v in extra_opsets]
    m = helper.make_model(g, opset_imports=ops, producer_name="negative-corpus")
    m.ir_version = ir
    return m


def vi(name, dtype, shape):
    return helper.make_tensor_value_info(name, dtype, shape)


F, I64 = TensorProto.FLOAT, TensorProto.INT64


def good_add():
    return model([helper.make_node("Add", ["A", "B"], ["C"], name="add0")],
                 [vi("A", F, [2, 3]), vi("B", F, [2, 3])], [vi("C", F, [2, 3])])


def real_cnn():
    """A small CNN with ~10 KB of initializers (the truncation victim)."""
    rng = np.random.default_rng(0)
    w1 = numpy_helper.from_array(rng.standard_normal((8, 3, 3, 3)).astype(np.float32), "w1")
    b1 = numpy_helper.from_array(rng.standard_normal(8).astype(np.float32), "b1")
    w2 = numpy_helper.from_array(rng.standard_normal((10, 8 * 4 * 4)).astype(np.float32), "w2")
    shp = numpy_helper.from_array(np.array([1, -1], np.int64), "shp")
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("MaxPool", ["r1"], ["p1"], name="pool1", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Reshape", ["p1", "shp"], ["f"], name="flat"),
        helper.make_node("Gemm", ["f", "w2"], ["y"], name="fc", transB=1),
    ]
    return model(nodes, [vi("x", F, [1, 3, 8, 8])], [vi("y", F, [1, 10])], [w1, b1, w2, shp])


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    cases = []

    def write(name, data, ext=".onnx"):
        p = os.path.join(out, name + ext)
        with open(p, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.SerializeToString())
        return p

    def compile_case(name, data, mention=(), ext=".onnx", extra=()):
        write(name, data, ext)
        cases.append({"name": name, "tool": "qopt-compile",
                      "args": ["{dir}/" + name + ext, "-o", "{out}.so", *extra],
                      "mention": [name + ext, *mention]})

    def cli_case(name, tool, args, mention=()):
        cases.append({"name": name, "tool": tool, "args": list(args), "mention": list(mention)})

    write("good_add", good_add())
    rng = np.random.default_rng(1234)

    # --- Not a (complete) ONNX model ---------------------------------------
    cnn = real_cnn().SerializeToString()
    write("good_cnn", cnn)
    for frac in (0.001, 0.02, 0.1, 0.33, 0.5, 0.75, 0.9, 0.999):
        cut = max(1, int(len(cnn) * frac))
        compile_case("truncated_%d" % cut, cnn[:cut])
    compile_case("random_64", rng.bytes(64))
    compile_case("random_4k", rng.bytes(4096))
    compile_case("random_lt", b"<" + rng.bytes(300))          # looks like text format
    compile_case("random_text", "<ir_version: 8, opset_import: [\"\" : 17]>\ng (float[2] X) => (".encode())
    compile_case("png_header", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + rng.bytes(64))
    compile_case("plain_text", b"this is not an onnx model\n")
    compile_case("empty", b"")
    compile_case("zeros", b"\0" * 1000)
    compile_case("empty_text", b"", ext=".onnxtext")
    # A valid protobuf that is not a model: a TensorProto.
    compile_case("tensor_not_model", numpy_helper.from_array(np.ones((4, 4), np.float32), "t"))

    # --- Graph structure ---------------------------------------------------
    compile_case("cycle", model(
        [helper.make_node("Relu", ["b"], ["a"], name="n_a"),
         helper.make_node("Neg", ["a"], ["b"], name="n_b"),
         helper.make_node("Add", ["X", "a"], ["Y"], name="n_y")],
        [vi("X", F, [2])], [vi("Y", F, [2])]), ["cycle"])
    compile_case("self_loop", model(
        [helper.make_node("Relu", ["a"], ["a"], name="loop_me"),
         helper.make_node("Add", ["X", "a"], ["Y"], name="n_y")],
        [vi("X", F, [2])], [vi("Y", F, [2])]), ["loop_me"])
    compile_case("undefined_input", model(
        [helper.make_node("Add", ["X", "ghost_tensor"], ["Y"], name="adder")],
        [vi("X", F, [2])], [vi("Y", F, [2])]), ["ghost_tensor", "adder"])
    compile_case("duplicate_output", model(
        [helper.make_node("Relu", ["X"], ["Y"], name="first"),
         helper.make_node("Neg", ["X"], ["Y"], name="second")],
        [vi("X", F, [2])], [vi("Y", F, [2])]), ["'Y'"])
    compile_case("duplicate_graph_output", model(
        [helper.make_node("Relu", ["X"], ["Y"], name="first")],
        [vi("X", F, [2])], [vi("Y", F, [2]), vi("Y", F, [2])]), ["'Y'"])
    compile_case("undefined_graph_output", model(
        [helper.make_node("Relu", ["X"], ["Y"], name="first")],
        [vi("X", F, [2])], [vi("Y", F, [2]), vi("nowhere_out", F, [2])]), ["nowhere_out"])
    compile_case("no_outputs", model(
        [helper.make_node("Relu", ["X"], ["Y"], name="first")], [vi("X", F, [2])], []))
    compile_case("redefine_input", model(
        [helper.make_node("Relu", ["X"], ["X"], name="clobber")],
        [vi("X", F, [2])], [vi("X", F, [2])]), ["'X'"])
    compile_case("no_op_type", model(
        [helper.make_node("", ["X"], ["Y"], name="blank")],
        [vi("X", F, [2])], [vi("Y", F, [2])]))
    compile_case("dtype_mismatch", model(
        [helper.make_node("Add", ["X", "K"], ["Y"], name="mixed_add")],
        [vi("X", F, [2]), vi("K", I64, [2])], [vi("Y", F, [2])]), ["mixed_add"])
    compile_case("output_dtype_mismatch", model(
        [helper.make_node("Relu", ["X"], ["Y"], name="r")],
        [vi("X", F, [2])], [vi("Y", I64, [2])]), ["'Y'"])
    compile_case("output_shape_mismatch", model(
        [helper.make_node("Relu", ["X"], ["Y"], name="r")],
        [vi("X", F, [2])], [vi("Y", F, [3])]), ["'Y'"])
    compile_case("string_input", model(
        [helper.make_node("Identity", ["S"], ["Y"], name="id")],
        [vi("S", TensorProto.STRING, [2])], [vi("Y", TensorProto.STRING, [2])]), ["'S'"])
    seq_in = helper.make_tensor_sequence_value_info("seq", F, [2])
    compile_case("sequence_input", model(
        [helper.make_node("Identity", ["seq"], ["Y"], name="id")],
        [seq_in], [vi("Y", F, [2])]), ["seq"])

    # --- Shapes and sizes --------------------------------------------------
    neg_in = vi("X", F, [2, 3])
    neg_in.type.tensor_type.shape.dim[1].dim_value = -3
    compile_case("negative_input_dim", model(
        [helper.make_node("Relu", ["X"], ["Y"], name="r")], [neg_in], [vi("Y", F, [2, 3])]), ["'X'"])
    compile_case("huge_input_dims", model(
        [helper.make_node("Relu", ["X"], ["Y"], name="r")],
        [vi("X", F, [1 << 40, 1 << 40])], [vi("Y", F, [1 << 40, 1 << 40])]), ["'X'"])
    compile_case("huge_input_bytes", model(  # element count fits, bytes do not
        [helper.make_node("Relu", ["X"], ["Y"], name="r")],
        [vi("X", F, [1 << 31, 1 << 31])], [vi("Y", F, [1 << 31, 1 << 31])]), ["'X'"])
    compile_case("huge_input_unsupported_size", model(  # 2^50 floats: fits int64, absurd
        [helper.make_node("Relu", ["X"], ["Y"], name="r")],
        [vi("X", F, [1 << 25, 1 << 25])], [vi("Y", F, [1 << 25, 1 << 25])]), ["'X'"])

    def init_raw(name, dims, raw, dt=F):
        t = TensorProto()
        t.name, t.data_type = name, dt
        t.dims.extend(dims)
        t.raw_data = raw
        return t

    def add_init(name, init, mention):
        compile_case(name, model(
            [helper.make_node("Add", ["X", init.name], ["Y"], name="add_w")],
            [vi("X", F, [2])], [vi("Y", F, [2])], [init]), mention)

    add_init("init_negative_dim", init_raw("w_neg", [-2], b"\0" * 8), ["w_neg"])
    add_init("init_huge_dims", init_raw("w_huge", [1 << 40, 1 << 40], b"\0" * 8), ["w_huge"])
    add_init("init_huge_dims_many", init_raw("w_huge3", [1 << 22] * 3, b""), ["w_huge3"])
    add_init("init_short_raw", init_raw("w_short", [2], b"\0" * 5), ["w_short"])
    add_init("init_long_raw", init_raw("w_long", [2], b"\0" * 12), ["w_long"])
    fd = helper.make_tensor("w_fd", F, [2], [1.0, 2.0])
    fd.dims[0] = 3
    add_init("init_short_float_data", fd, ["w_fd"])
    add_init("init_bad_dtype", init_raw("w_dt", [2], b"\0" * 8, dt=999), ["w_dt"])
    add_init("init_string_dtype", helper.make_tensor("w_str", TensorProto.STRING, [2], [b"a", b"b"]), ["w_str"])
    noname = init_raw("", [2], b"\0" * 8)
    compile_case("init_no_name", model(
        [helper.make_node("Relu", ["X"], ["Y"], name="r")],
        [vi("X", F, [2])], [vi("Y", F, [2])], [noname]))
    compile_case("init_duplicate", model(
        [helper.make_node("Add", ["X", "w"], ["Y"], name="a")],
        [vi("X", F, [2])], [vi("Y", F, [2])],
        [init_raw("w", [2], b"\0" * 8), init_raw("w", [2], b"\0" * 8)]), ["'w'"])

    # --- Versions and ops --------------------------------------------------
    compile_case("unsupported_ops", model(
        [helper.make_node("FrobnicateA", ["X"], ["a"], name="frob_a"),
         helper.make_node("Relu", ["a"], ["b"], name="ok"),
         helper.make_node("FrobnicateB", ["b"], ["Y"], name="frob_b")],
        [vi("X", F, [2])], [vi("Y", F, [2])]), ["frob_a", "FrobnicateA", "frob_b", "FrobnicateB"])
    compile_case("unsupported_real_ops", model(
        [helper.make_node("Loop", ["", "", "X"], ["Y"], name="loop0"),
         helper.make_node("StringNormalizer", ["X"], ["Z"], name="sn0")],
        [vi("X", F, [2])], [vi("Y", F, [2]), vi("Z", F, [2])]), ["loop0", "sn0"])
    compile_case("custom_domain_op", model(
        [helper.make_node("MyOp", ["X"], ["Y"], name="mine", domain="com.example")],
        [vi("X", F, [2])], [vi("Y", F, [2])], extra_opsets=[("com.example", 1)]), ["mine", "MyOp"])
    compile_case("domain_no_opset", model(
        [helper.make_node("MyOp", ["X"], ["Y"], name="mine", domain="com.example")],
        [vi("X", F, [2])], [vi("Y", F, [2])]), ["mine"])
    compile_case("opset_99", model(
        [helper.make_node("Relu", ["X"], ["Y"], name="r")],
        [vi("X", F, [2])], [vi("Y", F, [2])], opset=99), ["99"])
    compile_case("opset_0", model(
        [helper.make_node("Relu", ["X"], ["Y"], name="r")],
        [vi("X", F, [2])], [vi("Y", F, [2])], opset=0))
    compile_case("ir_version_11", model(
        [helper.make_node("Relu", ["X"], ["Y"], name="r")],
        [vi("X", F, [2])], [vi("Y", F, [2])], ir=11), ["11"])
    m = model([helper.make_node("Relu", ["X"], ["Y"], name="r")], [vi("X", F, [2])], [vi("Y", F, [2])])
    del m.opset_import[:]
    compile_case("no_opset_import", m)
    m = good_add()
    m.ClearField("graph")
    compile_case("no_graph", m)

    # --- External data -----------------------------------------------------
    with open(os.path.join(out, "weights.bin"), "wb") as f:
        f.write(b"\0" * 16)
    outside = os.path.join(os.path.dirname(os.path.abspath(out)), "outside.bin")
    with open(outside, "wb") as f:
        f.write(b"\0" * 16)
    link = os.path.join(out, "link.bin")
    if os.path.lexists(link):
        os.remove(link)
    os.symlink(outside, link)

    def ext_init(name, kv):
        t = TensorProto()
        t.name, t.data_type = name, F
        t.dims.extend([4])
        t.data_location = TensorProto.EXTERNAL
        for k, v in kv:
            e = t.external_data.add()
            e.key, e.value = k, v
        return t

    add_ext = lambda name, kv, mention: compile_case(name, model(
        [helper.make_node("Add", ["X", "w_ext"], ["Y"], name="add_w")],
        [vi("X", F, [4])], [vi("Y", F, [4])], [ext_init("w_ext", kv)]), ["w_ext", *mention])
    add_ext("ext_dotdot", [("location", "../outside.bin")], ["../outside.bin"])
    add_ext("ext_absolute", [("location", outside)], ["outside.bin"])
    add_ext("ext_etc_passwd", [("location", "/etc/passwd")], ["/etc/passwd"])
    add_ext("ext_symlink", [("location", "link.bin")], ["link.bin"])
    add_ext("ext_missing", [("location", "nope.bin")], ["nope.bin"])
    add_ext("ext_dir", [("location", ".")], [])
    add_ext("ext_no_location", [("offset", "0")], [])
    add_ext("ext_offset_past_end", [("location", "weights.bin"), ("offset", "1000")], ["weights.bin"])
    add_ext("ext_length_past_end", [("location", "weights.bin"), ("offset", "8"), ("length", "16")], ["weights.bin"])
    add_ext("ext_huge_offset", [("location", "weights.bin"), ("offset", "18446744073709551615")], [])
    add_ext("ext_negative_length", [("location", "weights.bin"), ("length", "-5")], [])
    add_ext("ext_wrong_length", [("location", "weights.bin"), ("length", "8")], [])

    # --- Shape inference / converter checks ---------------------------------
    compile_case("reshape_shape_of_unknown_length", model(
        [helper.make_node("Reshape", ["X", "S"], ["Y"], name="reshape_me")],
        [vi("X", F, [2, 3]), vi("S", I64, ["L"])], [vi("Y", F, None)]), ["reshape_me"])
    # Dynamic dims compile, except into ops not yet written for them.
    compile_case("dynamic_input_unsupported_op", model(
        [helper.make_node("Hardmax", ["X"], ["Y"], name="hm")],
        [vi("X", F, ["N", 3])], [vi("Y", F, ["N", 3])]), ["hm", "Hardmax"])
    compile_case("dim_max_unknown_dim", model(
        [helper.make_node("Relu", ["X"], ["Y"], name="r")],
        [vi("X", F, ["N", 3])], [vi("Y", F, ["N", 3])]), ["nosuch"],
        extra=["--dim-max=nosuch:4"])
    compile_case("dynamic_input_bad_pin", model(
        [helper.make_node("Relu", ["X"], ["Y"], name="r")],
        [vi("X", F, ["N", 3])], [vi("Y", F, ["N", 3])]), ["X"], extra=["--input-shape=X:4x4"])
    compile_case("pin_unknown_input", model(
        [helper.make_node("Relu", ["X"], ["Y"], name="r")],
        [vi("X", F, [4, 3])], [vi("Y", F, [4, 3])]), ["nosuch"], extra=["--input-shape=nosuch:4x3"])
    compile_case("pin_huge", model(
        [helper.make_node("Relu", ["X"], ["Y"], name="r")],
        [vi("X", F, ["N", 3])], [vi("Y", F, ["N", 3])]), ["X"],
        extra=["--input-shape=X:99999999999999999999999x3"])
    huge_const = helper.make_node("Constant", [], ["c"], name="big_const",
                                  value=init_raw("cv", [1 << 40, 1 << 40], b""))
    compile_case("constant_huge_dims", model(
        [huge_const, helper.make_node("Add", ["X", "c"], ["Y"], name="a")],
        [vi("X", F, [2])], [vi("Y", F, [2])]), ["big_const"])
    cos_shape = numpy_helper.from_array(np.array([1 << 20, 1 << 20, 1 << 20], np.int64), "cs")
    compile_case("constant_of_shape_huge", model(
        [helper.make_node("ConstantOfShape", ["cs"], ["c"], name="cos_big"),
         helper.make_node("Add", ["X", "c"], ["Y"], name="a")],
        [vi("X", F, [1])], [vi("Y", F, None)], [cos_shape]), ["cos_big"])
    cos_neg = numpy_helper.from_array(np.array([2, -4], np.int64), "cs")
    compile_case("constant_of_shape_negative", model(
        [helper.make_node("ConstantOfShape", ["cs"], ["c"], name="cos_neg"),
         helper.make_node("Add", ["X", "c"], ["Y"], name="a")],
        [vi("X", F, [1])], [vi("Y", F, None)], [cos_neg]), ["cos_neg"])
    exp_shape = numpy_helper.from_array(np.array([1 << 30, 1 << 30, 4], np.int64), "es")
    compile_case("expand_huge", model(
        [helper.make_node("Expand", ["X", "es"], ["Y"], name="expand_big")],
        [vi("X", F, [4])], [vi("Y", F, None)], [exp_shape]), ["expand_big"])
    rs = numpy_helper.from_array(np.array([4, 4], np.int64), "rs")
    compile_case("reshape_bad_count", model(
        [helper.make_node("Reshape", ["X", "rs"], ["Y"], name="reshape_bad")],
        [vi("X", F, [2, 3])], [vi("Y", F, None)], [rs]), ["reshape_bad"])
    rs2 = numpy_helper.from_array(np.array([-1, -1], np.int64), "rs")
    compile_case("reshape_two_minus_one", model(
        [helper.make_node("Reshape", ["X", "rs"], ["Y"], name="reshape_bad")],
        [vi("X", F, [2, 3])], [vi("Y", F, None)], [rs2]), ["reshape_bad"])
    rng_args = [numpy_helper.from_array(np.array(v, np.int64), n)
                for v, n in ((0, "r0"), (1 << 60, "r1"), (1, "r2"))]
    compile_case("range_huge", model(
        [helper.make_node("Range", ["r0", "r1", "r2"], ["Y"], name="range_big")],
        [], [vi("Y", I64, None)], rng_args), ["range_big"])
    rng0 = [numpy_helper.from_array(np.array(v, np.int64), n) for v, n in ((0, "r0"), (10, "r1"), (0, "r2"))]
    compile_case("range_zero_step", model(
        [helper.make_node("Range", ["r0", "r1", "r2"], ["Y"], name="range_zero")],
        [], [vi("Y", I64, None)], rng0), ["range_zero"])

    # --- Attributes --------------------------------------------------------
    tr = helper.make_node("Transpose", ["X"], ["Y"], name="perm_float")
    tr.attribute.append(helper.make_attribute("perm", [1.0, 0.0]))
    compile_case("transpose_perm_float", model(
        [tr], [vi("X", F, [2, 3])], [vi("Y", F, [3, 2])]), ["perm_float", "perm"])
    compile_case("transpose_perm_dup", model(
        [helper.make_node("Transpose", ["X"], ["Y"], name="perm_dup", perm=[0, 0])],
        [vi("X", F, [2, 3])], [vi("Y", F, None)]), ["perm_dup"])
    compile_case("transpose_perm_oob", model(
        [helper.make_node("Transpose", ["X"], ["Y"], name="perm_oob", perm=[0, 7])],
        [vi("X", F, [2, 3])], [vi("Y", F, None)]), ["perm_oob"])
    cv = helper.make_node("Conv", ["X", "W"], ["Y"], name="conv_str_ks")
    cv.attribute.append(helper.make_attribute("kernel_shape", "3x3"))
    wconv = numpy_helper.from_array(np.ones((2, 3, 3, 3), np.float32), "W")
    compile_case("conv_kernel_shape_string", model(
        [cv], [vi("X", F, [1, 3, 8, 8])], [vi("Y", F, None)], [wconv]), ["conv_str_ks"])
    at = helper.make_node("Softmax", ["X"], ["Y"], name="sm_axis")
    at.attribute.append(helper.make_attribute("axis", 9))
    compile_case("softmax_axis_oob", model(
        [at], [vi("X", F, [2, 3])], [vi("Y", F, [2, 3])]), ["sm_axis"])
    dup = helper.make_node("Softmax", ["X"], ["Y"], name="sm_dup", axis=1)
    dup.attribute.append(helper.make_attribute("axis", 0))
    compile_case("duplicate_attribute", model(
        [dup], [vi("X", F, [2, 3])], [vi("Y", F, [2, 3])]), ["sm_dup", "axis"])
    untyped = helper.make_node("Softmax", ["X"], ["Y"], name="sm_untyped")
    a = untyped.attribute.add()
    a.name = "axis"
    compile_case("attribute_no_type", model(
        [untyped], [vi("X", F, [2, 3])], [vi("Y", F, [2, 3])]), ["sm_untyped", "axis"])

    # --- Op-level semantic errors ------------------------------------------
    idx = numpy_helper.from_array(np.array([0, 5], np.int64), "idx")
    compile_case("gather_index_oob", model(
        [helper.make_node("Gather", ["X", "idx"], ["Y"], name="gather_oob", axis=0)],
        [vi("X", F, [3, 4])], [vi("Y", F, [2, 4])], [idx]), ["gather_oob"])
    idxn = numpy_helper.from_array(np.array([-4], np.int64), "idx")
    compile_case("gather_index_neg_oob", model(
        [helper.make_node("Gather", ["X", "idx"], ["Y"], name="gather_neg", axis=0)],
        [vi("X", F, [3, 4])], [vi("Y", F, [1, 4])], [idxn]), ["gather_neg"])
    idx1 = numpy_helper.from_array(np.array([0], np.int64), "idx")
    compile_case("gather_axis_oob", model(
        [helper.make_node("Gather", ["X", "idx"], ["Y"], name="gather_axis", axis=5)],
        [vi("X", F, [3, 4])], [vi("Y", F, None)], [idx1]), ["gather_axis"])
    wbad = numpy_helper.from_array(np.ones((4, 2, 3, 3), np.float32), "W")
    compile_case("conv_channel_mismatch", model(
        [helper.make_node("Conv", ["X", "W"], ["Y"], name="conv_bad")],
        [vi("X", F, [1, 3, 8, 8])], [vi("Y", F, None)], [wbad]), ["conv_bad"])
    wbig = numpy_helper.from_array(np.ones((2, 3, 11, 11), np.float32), "W")
    compile_case("conv_kernel_too_big", model(
        [helper.make_node("Conv", ["X", "W"], ["Y"], name="conv_big_k")],
        [vi("X", F, [1, 3, 8, 8])], [vi("Y", F, None)], [wbig]), ["conv_big_k"])
    w3 = numpy_helper.from_array(np.ones((3, 3, 3, 3), np.float32), "W")
    compile_case("conv_group_mismatch", model(
        [helper.make_node("Conv", ["X", "W"], ["Y"], name="conv_group", group=2)],
        [vi("X", F, [1, 3, 8, 8])], [vi("Y", F, None)], [w3]), ["conv_group"])
    compile_case("conv_zero_stride", model(
        [helper.make_node("Conv", ["X", "W"], ["Y"], name="conv_stride0", strides=[0, 0])],
        [vi("X", F, [1, 3, 8, 8])], [vi("Y", F, None)], [wconv]), ["conv_stride0"])
    compile_case("matmul_k_mismatch", model(
        [helper.make_node("MatMul", ["A", "B"], ["Y"], name="mm_bad")],
        [vi("A", F, [2, 3]), vi("B", F, [4, 5])], [vi("Y", F, [2, 5])]), ["mm_bad"])
    compile_case("matmul_scalar", model(
        [helper.make_node("MatMul", ["A", "B"], ["Y"], name="mm_scalar")],
        [vi("A", F, []), vi("B", F, [4, 5])], [vi("Y", F, None)]), ["mm_scalar"])
    compile_case("broadcast_mismatch", model(
        [helper.make_node("Add", ["A", "B"], ["Y"], name="add_bcast")],
        [vi("A", F, [2, 3]), vi("B", F, [4])], [vi("Y", F, None)]), ["add_bcast"])
    compile_case("concat_rank_mismatch", model(
        [helper.make_node("Concat", ["A", "B"], ["Y"], name="cat_bad", axis=0)],
        [vi("A", F, [2, 3]), vi("B", F, [4])], [vi("Y", F, None)]), ["cat_bad"])
    compile_case("concat_axis_oob", model(
        [helper.make_node("Concat", ["A", "B"], ["Y"], name="cat_axis", axis=4)],
        [vi("A", F, [2, 3]), vi("B", F, [2, 3])], [vi("Y", F, None)]), ["cat_axis"])
    sp = numpy_helper.from_array(np.array([1, 1], np.int64), "sp")
    compile_case("split_sizes_mismatch", model(
        [helper.make_node("Split", ["X", "sp"], ["a", "b"], name="split_bad", axis=0)],
        [vi("X", F, [5])], [vi("a", F, None), vi("b", F, None)], [sp]), ["split_bad"])
    compile_case("relu_too_many_inputs", model(
        [helper.make_node("Relu", ["X", "X"], ["Y"], name="relu2")],
        [vi("X", F, [2])], [vi("Y", F, [2])]), ["relu2"])
    compile_case("add_missing_input", model(
        [helper.make_node("Add", ["X"], ["Y"], name="add1")],
        [vi("X", F, [2])], [vi("Y", F, [2])]), ["add1"])
    compile_case("gemm_no_outputs", model(
        [helper.make_node("Relu", ["X"], [], name="no_out"),
         helper.make_node("Relu", ["X"], ["Y"], name="r")],
        [vi("X", F, [2])], [vi("Y", F, [2])]), ["no_out"])
    pads = numpy_helper.from_array(np.array([-5, -5], np.int64), "pads")
    compile_case("pad_negative_too_much", model(
        [helper.make_node("Pad", ["X", "pads"], ["Y"], name="pad_neg")],
        [vi("X", F, [3])], [vi("Y", F, None)], [pads]), ["pad_neg"])
    compile_case("maxpool_kernel_too_big", model(
        [helper.make_node("MaxPool", ["X"], ["Y"], name="pool_big", kernel_shape=[9, 9])],
        [vi("X", F, [1, 1, 4, 4])], [vi("Y", F, None)]), ["pool_big"])
    compile_case("cast_to_bad_dtype", model(
        [helper.make_node("Cast", ["X"], ["Y"], name="cast_bad", to=999)],
        [vi("X", F, [2])], [vi("Y", F, None)]), ["cast_bad"])

    # --- Text format -------------------------------------------------------
    compile_case("text_syntax", b"<ir_version: 8, opset_import: [\"\" : 17]>\ng (float[2] X) => (float[2] Y) { Y = Relu(X \n",
                 ext=".onnxtext")
    compile_case("text_undefined", b"<ir_version: 8, opset_import: [\"\" : 17]>\ng (float[2] X) => (float[2] Y) { Y = Add(X, Zzz) }\n",
                 ["Zzz"], ext=".onnxtext")

    # --- qopt-compile command lines ----------------------------------------
    qc = "qopt-compile"
    cli_case("cli_unknown_option", qc, ["{onnx}", "-o", "{out}.so", "--frobnicate"], ["frobnicate"])
    cli_case("cli_bad_O", qc, ["{onnx}", "-O7", "-o", "{out}.so"], ["-O7"])
    cli_case("cli_bad_Ofast", qc, ["{onnx}", "-Ofast", "-o", "{out}.so"], ["fast"])
    cli_case("cli_bad_target", qc, ["{onnx}", "--target=sparc", "-o", "{out}.so"], ["sparc"])
    cli_case("cli_bad_emit", qc, ["{onnx}", "--emit=wasm", "-o", "{out}.so"], ["wasm"])
    cli_case("cli_bad_input_shape", qc, ["{onnx}", "--input-shape=A", "-o", "{out}.so"], ["A"])
    cli_case("cli_bad_input_shape_dims", qc, ["{onnx}", "--input-shape=A:2xq", "-o", "{out}.so"], ["2xq"])
    cli_case("cli_bad_input_shape_empty", qc, ["{onnx}", "--input-shape=A:", "-o", "{out}.so"], [])
    cli_case("cli_input_shape_mismatch", qc, ["{onnx}", "--input-shape=A:7x7", "-o", "{out}.so"], ["A"])
    cli_case("cli_missing_o", qc, ["{onnx}"], ["-o"])
    cli_case("cli_missing_input", qc, ["-o", "{out}.so"], [])
    cli_case("cli_nonexistent_input", qc, ["{dir}/does_not_exist.onnx", "-o", "{out}.so"], ["does_not_exist.onnx"])
    cli_case("cli_input_is_dir", qc, ["{dir}", "-o", "{out}.so"], [])
    cli_case("cli_output_dir_missing", qc, ["{onnx}", "-o", "{dir}/no/such/dir/x.so"], ["x.so"])
    cli_case("cli_bad_plugin", qc, ["{onnx}", "--load-pass-plugin={dir}/nope.so", "-o", "{out}.so"], ["nope.so"])
    cli_case("cli_bad_graph_passes", qc, ["{onnx}", "--graph-passes=no-such-pass", "-o", "{out}.so"], ["no-such-pass"])
    cli_case("cli_bad_weight_threshold", qc, ["{onnx}", "--weight-threshold=lots", "-o", "{out}.so"], ["lots"])

    # --- qopt-run command lines and inputs ---------------------------------
    def npy(name, arr):
        p = os.path.join(out, name + ".npy")
        np.save(p, arr)
        return "{dir}/" + name + ".npy"

    a_ok = npy("a_ok", np.ones((2, 3), np.float32))
    b_ok = npy("b_ok", np.ones((2, 3), np.float32))
    a_i64 = npy("a_i64", np.ones((2, 3), np.int64))
    a_shape = npy("a_shape", np.ones((3, 2), np.float32))
    a_rank = npy("a_rank", np.ones((6,), np.float32))
    a_f64 = npy("a_f64", np.ones((2, 3), np.float64))
    a_fortran = os.path.join(out, "a_fortran.npy")
    np.save(a_fortran, np.asfortranarray(np.ones((2, 3), np.float32)))
    with open(a_fortran, "rb") as f:  # np.save writes C order; force the flag
        data = f.read().replace(b"'fortran_order': False", b"'fortran_order': True ")
    with open(a_fortran, "wb") as f:
        f.write(data)
    good = open(os.path.join(out, "a_ok.npy"), "rb").read()
    with open(os.path.join(out, "bad_header.npy"), "wb") as f:
        f.write(good[:10] + b"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3" + b" " * 60 + b"\n" + good[128:])
    with open(os.path.join(out, "bad_magic.npy"), "wb") as f:
        f.write(b"\x93NUMPX" + good[6:])
    with open(os.path.join(out, "huge_header_len.npy"), "wb") as f:
        f.write(good[:8] + struct.pack("<H", 0xFFFF) + good[10:])
    with open(os.path.join(out, "short_data.npy"), "wb") as f:
        f.write(good[:-4])
    with open(os.path.join(out, "huge_shape.npy"), "wb") as f:
        hdr = b"{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4), }"
        hdr += b" " * (117 - len(hdr)) + b"\n"
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr + b"\0" * 24)
    with open(os.path.join(out, "neg_shape.npy"), "wb") as f:
        hdr = b"{'descr': '<f4', 'fortran_order': False, 'shape': (-2, 3), }"
        hdr += b" " * (117 - len(hdr)) + b"\n"
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr + b"\0" * 24)
    with open(os.path.join(out, "object_dtype.npy"), "wb") as f:
        hdr = b"{'descr': '|O', 'fortran_order': False, 'shape': (2, 3), }"
        hdr += b" " * (117 - len(hdr)) + b"\n"
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr + b"\0" * 48)
    with open(os.path.join(out, "empty.npy"), "wb") as f:
        pass
    with open(os.path.join(out, "corrupt.pb"), "wb") as f:
        f.write(b"\x0a\xff\xff\xff\xff\x0f")
    with open(os.path.join(out, "short_raw.pb"), "wb") as f:
        f.write(init_raw("A", [2, 3], b"\0" * 7).SerializeToString())
    with open(os.path.join(out, "not_a_model.so"), "wb") as f:
        f.write(b"not an ELF file\n")

    qr = "qopt-run"
    od = ["--output-dir", "{out}.outdir"]
    cli_case("run_wrong_dtype", qr, ["{model}", "--input", "A=" + a_i64, "--input", "B=" + b_ok, *od], ["A"])
    cli_case("run_wrong_dtype_f64", qr, ["{model}", "--input", "A=" + a_f64, "--input", "B=" + b_ok, *od], ["A"])
    cli_case("run_wrong_shape", qr, ["{model}", "--input", "A=" + a_shape, "--input", "B=" + b_ok, *od], ["A"])
    cli_case("run_wrong_rank", qr, ["{model}", "--input", "A=" + a_rank, "--input", "B=" + b_ok, *od], ["A"])
    cli_case("run_too_few_inputs", qr, ["{model}", "--input", "A=" + a_ok, *od], [])
    cli_case("run_too_many_inputs", qr, ["{model}", "--input", "A=" + a_ok, "--input", "B=" + b_ok,
                                         "--input", "B=" + b_ok, *od], [])
    cli_case("run_no_inputs", qr, ["{model}", *od], [])
    cli_case("run_unknown_name", qr, ["{model}", "--input", "A=" + a_ok, "--input", "Q=" + b_ok, *od], ["Q"])
    cli_case("run_duplicate_name", qr, ["{model}", "--input", "A=" + a_ok, "--input", "A=" + b_ok, *od], ["A"])
    cli_case("run_fortran_npy", qr, ["{model}", "--input", "A={dir}/a_fortran.npy", "--input", "B=" + b_ok, *od], ["a_fortran.npy"])
    for bad in ("bad_header", "bad_magic", "huge_header_len", "short_data", "huge_shape", "neg_shape",
                "object_dtype", "empty"):
        cli_case("run_npy_" + bad, qr, ["{model}", "--input", "A={dir}/%s.npy" % bad, "--input", "B=" + b_ok, *od],
                 [bad + ".npy"])
    cli_case("run_pb_corrupt", qr, ["{model}", "--input", "A={dir}/corrupt.pb", "--input", "B=" + b_ok, *od], ["corrupt.pb"])
    cli_case("run_pb_short_raw", qr, ["{model}", "--input", "A={dir}/short_raw.pb", "--input", "B=" + b_ok, *od], ["short_raw.pb"])
    cli_case("run_missing_input_file", qr, ["{model}", "--input", "A={dir}/nope.npy", "--input", "B=" + b_ok, *od], ["nope.npy"])
    cli_case("run_nonexistent_model", qr, ["{dir}/nope.so", "--input", "A=" + a_ok, *od], ["nope.so"])
    cli_case("run_not_elf", qr, ["{dir}/not_a_model.so", "--input", "A=" + a_ok, *od], ["not_a_model.so"])
    cli_case("run_bad_onnx", qr, ["{dir}/plain_text.onnx", "--input", "A=" + a_ok, *od], ["plain_text.onnx"])
    cli_case("run_bad_threads", qr, ["{model}", "--threads", "many", "--input", "A=" + a_ok, "--input", "B=" + b_ok, *od], ["many"])
    cli_case("run_negative_threads", qr, ["{model}", "--threads=-2", "--input", "A=" + a_ok, "--input", "B=" + b_ok, *od], ["threads"])
    cli_case("run_negative_bench", qr, ["{model}", "--bench=-1", "--input", "A=" + a_ok, "--input", "B=" + b_ok, *od], ["bench"])
    cli_case("run_unknown_option", qr, ["{model}", "--frobnicate", *od], ["frobnicate"])
    cli_case("run_bad_const_input", qr, ["{onnx}", "--const-input=A", "--input", "B=" + b_ok, *od], ["A"])
    cli_case("run_const_input_unknown", qr, ["{onnx}", "--const-input=Q=" + a_ok, "--input", "B=" + b_ok, *od], ["Q"])
    cli_case("run_const_input_wrong_dtype", qr, ["{onnx}", "--const-input=A=" + a_i64, "--input", "B=" + b_ok, *od], ["A"])

    names = [c["name"] for c in cases]
    assert len(names) == len(set(names)), "duplicate case names"
    with open(os.path.join(out, "cases.json"), "w") as f:
        json.dump(cases, f, indent=1)
    print("%d cases written to %s" % (len(cases), out))


if __name__ == "__main__":
    main()
