#!/usr/bin/env python3
"""index_ops_check.py QOPT_RUN TMPDIR [CASE...]: builds small ONNX models of
the index / data-dependent ops (TopK, GatherND, ScatterND, ScatterElements,
NonZero, Compress, Unique), runs each through qopt-run (JIT) with run-time
inputs, and compares every output (values, dtype, shape) with a NumPy
reference written here. Prints 'OK <case>' or 'FAIL <case>: why'."""
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

NP2ONNX = {np.float32: TensorProto.FLOAT, np.int64: TensorProto.INT64,
           np.int32: TensorProto.INT32, np.bool_: TensorProto.BOOL,
           np.uint8: TensorProto.UINT8}


def onnx_type(a):
    return NP2ONNX[a.dtype.type]


def model(op, inputs, outs, opset, consts=None, **attrs):
    """One-node model; `inputs` name -> array (graph inputs, run-time),
    `consts` name -> array (initializers), `outs` output names."""
    consts = consts or {}
    dyn = attrs.pop("_dyn", ())  # inputs whose dims are all symbolic
    names = list(inputs) + list(consts)
    order = attrs.pop("_order", names)
    node = helper.make_node(op, order, outs, **attrs)
    g = helper.make_graph(
        [node], op.lower(),
        [helper.make_tensor_value_info(
            k, onnx_type(v),
            ["%s_%d" % (k, d) for d in range(v.ndim)] if k in dyn else v.shape)
         for k, v in inputs.items()],
        [helper.make_tensor_value_info(o, TensorProto.UNDEFINED, None)
         for o in outs],
        [numpy_helper.from_array(v, k) for k, v in consts.items()])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])


def run(qopt_run, tmp, case, m, inputs, outs, expect_fail=None):
    d = os.path.join(tmp, case)
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "model.onnx")
    for o in m.graph.output:  # let qopt infer the output types
        o.type.tensor_type.ClearField("elem_type")
    onnx.save(m, path)
    # Three runs (--bench 2 after the first): a model that wrote into its
    # input buffers would give different outputs the second time.
    cmd = [qopt_run, path, "--output-dir", d, "--bench", "2"]
    for k, v in inputs.items():
        np.save(os.path.join(d, k + ".npy"), v)
        cmd += ["--input", "%s=%s" % (k, os.path.join(d, k + ".npy"))]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    text = p.stdout.decode()
    if expect_fail is not None:
        ok = p.returncode not in (0,) and p.returncode > 0 and expect_fail in text
        return "OK" if ok else "FAIL rc=%d: %s" % (p.returncode, text[-300:])
    if p.returncode != 0:
        return "FAIL rc=%d: %s" % (p.returncode, text[-300:])
    for name, ref in outs.items():
        got = np.load(os.path.join(d, name + ".npy"))
        if got.dtype != ref.dtype or got.shape != ref.shape:
            return "FAIL %s: %s%s, expected %s%s" % (
                name, got.dtype, got.shape, ref.dtype, ref.shape)
        if not np.array_equal(got, ref, equal_nan=ref.dtype.kind == "f"):
            return "FAIL %s: %s, expected %s" % (name, got.tolist(), ref.tolist())
    return "OK"


def topk_ref(x, k, axis, largest):
    """The K first of each row in ONNX's order: by value (NaN above every
    number), ties by lower index."""
    xs = np.moveaxis(x, axis, -1)

    def key(row, i):
        v = row[i]
        nan = bool(row.dtype.kind == "f" and np.isnan(v))
        v = 0 if nan else v.item()
        return ((0 if nan else 1, -v) if largest else (1 if nan else 0, v), i)

    vals, idxs = [], []
    for row in xs.reshape(-1, xs.shape[-1]):
        order = sorted(range(len(row)), key=lambda i: key(row, i))[:k]
        vals.append(row[order])
        idxs.append(order)
    shp = xs.shape[:-1] + (k,)
    v = np.array(vals, x.dtype).reshape(shp)
    i = np.array(idxs, np.int64).reshape(shp)
    return np.moveaxis(v, -1, axis), np.moveaxis(i, -1, axis)


def cases():
    r = np.random.default_rng(0)
    # TopK: ties (lower index first), NaN, smallest, a middle axis, K given
    # at run time, integer data.
    x = np.array([[1, 3, 3, 2, 3, np.nan, -1, 2],
                  [0, 0, 0, 0, 0, 0, 0, 0],
                  [5, 4, 3, 2, 1, 0, -1, -2]], np.float32)
    for largest in (1, 0):
        for k in (0, 3, 8):
            v, i = topk_ref(x, k, 1, largest)
            yield ("topk_l%d_k%d" % (largest, k),
                   model("TopK", {"x": x, "k": np.array([k], np.int64)},
                         ["v", "i"], 11, axis=1, largest=largest),
                   {"x": x, "k": np.array([k], np.int64)}, {"v": v, "i": i})
    x3 = r.integers(-3, 3, (2, 7, 3)).astype(np.int64)
    v, i = topk_ref(x3, 4, 1, 1)
    yield ("topk_int_axis1_const_k",
           model("TopK", {"x": x3}, ["v", "i"], 11,
                 consts={"k": np.array([4], np.int64)}, axis=-2),
           {"x": x3}, {"v": v, "i": i})
    yield ("topk_k_too_large",
           model("TopK", {"x": x3}, ["v", "i"], 11,
                 consts={"k": np.array([9], np.int64)}, axis=1),
           {"x": x3}, None, "K = 9 is larger than the axis size 7")
    # GatherND: batch_dims, negative and out-of-range (clamped) indices.
    data = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    ind = np.array([[[1, -1]], [[0, 2]]], np.int64)  # (2, 1, 2)
    ref = np.stack([data[0][1, -1], data[1][0, 2]]).reshape(2, 1)
    yield ("gathernd_batch1",
           model("GatherND", {"data": data, "ind": ind}, ["y"], 13,
                 batch_dims=1), {"data": data, "ind": ind}, {"y": ref})
    ind2 = np.array([[1], [0], [-2]], np.int64)
    yield ("gathernd_slices",
           model("GatherND", {"data": data, "ind": ind2}, ["y"], 13),
           {"data": data, "ind": ind2}, {"y": data[[1, 0, 0]]})
    bad = np.array([[7], [-9]], np.int64)  # clamped: never read outside
    yield ("gathernd_clamped",
           model("GatherND", {"data": data, "ind": bad}, ["y"], 13),
           {"data": data, "ind": bad}, {"y": data[[1, 0]]})
    # ScatterND: duplicates combine in order; out-of-range updates skipped.
    d = np.arange(8, dtype=np.float32)
    si = np.array([[1], [3], [1], [-1], [8]], np.int64)
    up = np.array([10, 20, 30, 40, 50], np.float32)
    for red in ("none", "add", "mul", "max", "min"):
        ref = d.copy()
        for (k,), u in zip(si, up):
            if not -8 <= k < 8:
                continue
            k = k % 8
            ref[k] = {"none": u, "add": ref[k] + u, "mul": ref[k] * u,
                      "max": max(ref[k], u), "min": min(ref[k], u)}[red]
        attrs = {} if red == "none" else {"reduction": red}
        yield ("scatternd_" + red,
               model("ScatterND", {"d": d, "i": si, "u": up}, ["y"], 18,
                     **attrs), {"d": d, "i": si, "u": up}, {"y": ref})
    d2 = np.zeros((3, 2, 2), np.int32)
    i2 = np.array([[2, 1], [0, 0]], np.int64)
    u2 = np.array([[5, 6], [7, 8]], np.int32)
    ref = d2.copy()
    ref[2, 1] = u2[0]
    ref[0, 0] = u2[1]
    yield ("scatternd_slices",
           model("ScatterND", {"d": d2, "i": i2, "u": u2}, ["y"], 13),
           {"d": d2, "i": i2, "u": u2}, {"y": ref})
    # ScatterElements along axis 0 with add, negative index, skipped OOB.
    e = np.ones((3, 3), np.float32)
    ei = np.array([[1, 0, 2], [-1, 5, 1]], np.int64)
    eu = np.array([[1, 2, 3], [4, 5, 6]], np.float32)
    ref = e.copy()
    for (a, b), k in np.ndenumerate(ei):
        if -3 <= k < 3:
            ref[k % 3, b] += eu[a, b]
    yield ("scatter_elements_add",
           model("ScatterElements", {"e": e, "i": ei, "u": eu}, ["y"], 16,
                 axis=0, reduction="add"), {"e": e, "i": ei, "u": eu},
           {"y": ref})
    # Dynamic input dims (dim_params): the same ops compiled once for `?`.
    v, i = topk_ref(x3, 2, 2, 0)
    yield ("topk_dyn", model("TopK", {"x": x3, "k": np.array([2], np.int64)},
                             ["v", "i"], 11, largest=0, _dyn=("x",)),
           {"x": x3, "k": np.array([2], np.int64)}, {"v": v, "i": i})
    yield ("gathernd_dyn",
           model("GatherND", {"data": data, "ind": ind2}, ["y"], 13,
                 _dyn=("data",)),
           {"data": data, "ind": ind2}, {"y": data[[1, 0, 0]]})
    ref = d.copy()
    ref[[1, 3, 1, 7]] = [30, 20, 30, 40]
    yield ("scatternd_dyn",
           model("ScatterND", {"d": d, "i": si, "u": up}, ["y"], 13,
                 _dyn=("d", "u")),
           {"d": d, "i": si, "u": up}, {"y": ref})
    nz = np.array([[0, 1, 0, 3]], np.int32)
    yield ("nonzero_dyn", model("NonZero", {"x": nz}, ["y"], 13, _dyn=("x",)),
           {"x": nz}, {"y": np.array(np.nonzero(nz), np.int64)})
    # NonZero / Compress / Unique: value-dependent output sizes.
    for nz in (np.array([[0, 1.5, 0], [2, 0, -1]], np.float32),
               np.zeros((2, 3), np.float32)):
        yield ("nonzero_%d" % int(np.count_nonzero(nz)),
               model("NonZero", {"x": nz}, ["y"], 13), {"x": nz},
               {"y": np.array(np.nonzero(nz), np.int64).reshape(2, -1)})
    ci = np.arange(12, dtype=np.float32).reshape(3, 4)
    cond = np.array([True, False, True], np.bool_)
    yield ("compress_axis1",
           model("Compress", {"x": ci, "c": cond}, ["y"], 11, axis=1),
           {"x": ci, "c": cond}, {"y": np.compress(cond, ci, axis=1)})
    cond5 = np.array([False, True, False, False, True], np.bool_)
    yield ("compress_flat",
           model("Compress", {"x": ci, "c": cond5}, ["y"], 11),
           {"x": ci, "c": cond5}, {"y": np.compress(cond5, ci)})
    ux = np.array([2, 1, 1, 3, 4, 3, np.nan, np.nan, -0.0, 0.0], np.float32)
    for srt in (1, 0):
        y, idx, inv, cnt = np.unique(ux, return_index=True,
                                     return_inverse=True, return_counts=True)
        if not srt:
            order = np.argsort(idx, kind="stable")
            y, idx, cnt = y[order], idx[order], cnt[order]
            inv = np.argsort(order)[inv]
        yield ("unique_sorted%d" % srt,
               model("Unique", {"x": ux}, ["y", "i", "inv", "c"], 11,
                     sorted=srt), {"x": ux},
               {"y": y, "i": idx.astype(np.int64),
                "inv": inv.reshape(-1).astype(np.int64),
                "c": cnt.astype(np.int64)})
    ua = np.array([[1, 0, 1, 0], [2, 3, 2, 3], [1, 0, 1, 0]], np.int64)
    y, idx, inv, cnt = np.unique(ua, axis=1, return_index=True,
                                 return_inverse=True, return_counts=True)
    yield ("unique_axis1",
           model("Unique", {"x": ua}, ["y", "i", "inv", "c"], 11, axis=1),
           {"x": ua}, {"y": y, "i": idx.astype(np.int64),
                       "inv": inv.reshape(-1).astype(np.int64),
                       "c": cnt.astype(np.int64)})


def main():
    qopt_run, tmp = sys.argv[1], sys.argv[2]
    only = set(sys.argv[3:])
    rc = 0
    for c in cases():
        name, m, inputs, outs = c[:4]
        if only and not any(name.startswith(o) for o in only):
            continue
        fail = c[4] if len(c) > 4 else None
        st = run(qopt_run, tmp, name, m, inputs, outs or {}, fail)
        print(("OK " + name) if st == "OK" else "FAIL %s: %s" % (name, st))
        rc |= st != "OK"
    return rc


if __name__ == "__main__":
    sys.exit(main())
