#!/usr/bin/env python3
"""Independent float64 NumPy check of --calib=synthetic on a CNN (ZeroQ).

    zeroq_ref.py make OUT.onnx
    zeroq_ref.py make-bad OUT.onnx
    zeroq_ref.py check MODEL.onnx RANDOM.npy STEP1.npy FINAL.npy LOG

`make` writes a small CNN touching every op the BatchNorm-matching
interpreter differentiates (Conv with stride/dilation/groups/pads, Relu,
LeakyRelu, Clip, HardSwish, Sigmoid, Add/Sub/Mul/Div with constants, a
residual Add, Concat, MaxPool with ceil_mode, AveragePool with pads,
GlobalAveragePool); its BN running statistics are the batch statistics of
smooth random images, so they are reachable.

`check` recomputes the ZeroQ loss sum_l mean_c (m_c - mu_c)^2 + (s_c - sigma_c)^2
in NumPy and asserts:
 1. the gradient: Adam's first step moves every element by -lr * sign(g),
    so STEP1 - RANDOM gives qopt's gradient signs; they must match the signs
    of central finite differences of the NumPy loss at 48 elements;
 2. the final loss qopt printed (LOG) equals the NumPy loss of FINAL;
 3. FINAL's loss is below 5 % of the N(0, 1) start's.
"""
import re
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

LR = 0.1


def conv(x, w, b, stride=1, pad=0, dil=1, group=1):
    n, c, h, wd = x.shape
    m, cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    ho = (h + 2 * pad - (kh - 1) * dil - 1) // stride + 1
    wo = (wd + 2 * pad - (kw - 1) * dil - 1) // stride + 1
    y = np.zeros((n, m, ho, wo))
    mg = m // group
    for g in range(group):
        for i in range(kh):
            for j in range(kw):
                patch = xp[:, g * cg:(g + 1) * cg, i * dil:i * dil + stride * ho:stride,
                           j * dil:j * dil + stride * wo:stride]
                y[:, g * mg:(g + 1) * mg] += np.einsum("nchw,mc->nmhw", patch, w[g * mg:(g + 1) * mg, :, i, j])
    return y + b[None, :, None, None]


def maxpool_ceil(x, k, s):
    n, c, h, w = x.shape
    ho, wo = -(-(h - k) // s) + 1, -(-(w - k) // s) + 1
    y = np.full((n, c, ho, wo), -np.inf)
    for i in range(ho):
        for j in range(wo):
            y[:, :, i, j] = x[:, :, i * s:i * s + k, j * s:j * s + k].max(axis=(2, 3))
    return y


def avgpool_pad(x):  # kernel 3, stride 1, pads 1, count_include_pad=1
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    h, w = x.shape[2:]
    return sum(xp[:, :, i:i + h, j:j + w] for i in range(3) for j in range(3)) / 9


def forward(p, x):
    """The BN inputs of the test network for images x (float64)."""
    bn_in = []

    def bn(name, t):
        bn_in.append(t)
        s, b, m, v = (p[name + k] for k in (".scale", ".bias", ".mean", ".var"))
        return (t - m[None, :, None, None]) / np.sqrt(v[None, :, None, None] + 1e-5) * \
            s[None, :, None, None] + b[None, :, None, None]

    t = conv(x, p["c1.w"], p["c1.b"], pad=1)
    t = np.maximum(bn("bn1", t), 0)                                   # Relu
    u = conv(t, p["c2.w"], p["c2.b"], stride=2, pad=1, dil=2, group=2)
    u = bn("bn2", u)
    u = np.where(u >= 0, u, 0.1 * u)                                  # LeakyRelu
    r = conv(u, p["c3.w"], p["c3.b"], pad=1)
    r = np.clip(bn("bn3", r), 0, 6)                                   # Clip
    r = r * p["mul"] - p["sub"]                                       # Mul, Sub const
    a = u + r                                                         # residual
    a = a * np.clip(a / 6 + 0.5, 0, 1)                                # HardSwish
    q = 1 / (1 + np.exp(-(a / p["div"])))                             # Div, Sigmoid
    c = np.concatenate([q, avgpool_pad(a)], axis=1)                   # Concat, AvgPool
    c = maxpool_ceil(c, 2, 2)                                         # MaxPool ceil
    c = conv(c, p["c4.w"], p["c4.b"])
    c = bn("bn4", c)
    g = c.mean(axis=(2, 3), keepdims=True)                            # GAP
    bn("bn5", g)
    return bn_in


def shapes():
    return {"c1.w": (8, 3, 3, 3), "c2.w": (12, 8, 3, 3), "c3.w": (12, 12, 3, 3), "c4.w": (10, 24, 1, 1)}


def make(out):
    rng = np.random.default_rng(7)
    p = {}
    for k, s in shapes().items():
        p[k] = rng.standard_normal(s) * np.sqrt(2.0 / np.prod(s[1:]))
        p[k[:-2] + ".b"] = rng.standard_normal(s[0]) * 0.1
    p["c2.w"] = p["c2.w"][:, :4]  # groups=2
    p["mul"] = rng.uniform(0.5, 1.5, (1, 12, 1, 1))
    p["sub"] = np.array(0.25)
    p["div"] = np.array(2.0)
    chans = {"bn1": 8, "bn2": 12, "bn3": 12, "bn4": 10, "bn5": 10}
    for k, c in chans.items():
        p[k + ".scale"] = rng.uniform(0.5, 1.5, c)
        p[k + ".bias"] = rng.standard_normal(c) * 0.2
        p[k + ".mean"] = np.zeros(c)
        p[k + ".var"] = np.ones(c)
    # Running statistics from "real" images: smooth random fields.
    img = rng.standard_normal((64, 3, 20, 20))
    img = sum(np.roll(np.roll(img, i, 2), j, 3) for i in range(-2, 3) for j in range(-2, 3)) / 5
    img = img[:, :, 2:18, 2:18] * 0.8 + 0.3
    for k in chans:  # one BN at a time, so each sees the updated earlier ones
        t = forward(p, img)[list(chans).index(k)]
        p[k + ".mean"] = t.mean(axis=(0, 2, 3))
        p[k + ".var"] = t.var(axis=(0, 2, 3))
    f = lambda k: numpy_helper.from_array(np.asarray(p[k], np.float32), k)  # noqa: E731
    inits = [f(k) for k in p] + [numpy_helper.from_array(np.array(0, np.float32), "zero"),
                                 numpy_helper.from_array(np.array(6, np.float32), "six")]
    N = helper.make_node

    def bnn(k, x, y):
        return N("BatchNormalization", [x] + [k + s for s in (".scale", ".bias", ".mean", ".var")], [y], name=k)
    nodes = [
        N("Conv", ["x", "c1.w", "c1.b"], ["t0"], name="c1", pads=[1, 1, 1, 1]),
        bnn("bn1", "t0", "t1"), N("Relu", ["t1"], ["t2"], name="relu"),
        N("Conv", ["t2", "c2.w", "c2.b"], ["u0"], name="c2", pads=[1, 1, 1, 1], strides=[2, 2],
          dilations=[2, 2], group=2),
        bnn("bn2", "u0", "u1"), N("LeakyRelu", ["u1"], ["u"], name="leaky", alpha=0.1),
        N("Conv", ["u", "c3.w", "c3.b"], ["r0"], name="c3", pads=[1, 1, 1, 1]),
        bnn("bn3", "r0", "r1"), N("Clip", ["r1", "zero", "six"], ["r2"], name="clip"),
        N("Mul", ["r2", "mul"], ["r3"], name="mul"), N("Sub", ["r3", "sub"], ["r"], name="sub"),
        N("Add", ["u", "r"], ["a"], name="residual"), N("HardSwish", ["a"], ["a1"], name="hswish"),
        N("Div", ["a1", "div"], ["q0"], name="div"), N("Sigmoid", ["q0"], ["q"], name="sigmoid"),
        N("AveragePool", ["a1"], ["ap"], name="avg", kernel_shape=[3, 3], pads=[1, 1, 1, 1],
          count_include_pad=1),
        N("Concat", ["q", "ap"], ["c0"], name="concat", axis=1),
        N("MaxPool", ["c0"], ["c1"], name="maxpool", kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1),
        N("Conv", ["c1", "c4.w", "c4.b"], ["c2"], name="c4"),
        bnn("bn4", "c2", "c3"), N("GlobalAveragePool", ["c3"], ["g"], name="gap"),
        bnn("bn5", "g", "g1"), N("Flatten", ["g1"], ["y"], name="flatten"),
    ]
    g = helper.make_graph(nodes, "zeroq_test", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, out)


def params(model):
    m = onnx.load(model)
    return {t.name: numpy_helper.to_array(t).astype(np.float64) for t in m.graph.initializer}


def loss(p, x):
    total = 0.0
    for k, t in zip(["bn1", "bn2", "bn3", "bn4", "bn5"], forward(p, x)):
        m = t.mean(axis=(0, 2, 3))
        s = np.sqrt(t.var(axis=(0, 2, 3)) + 1e-8)
        sigma = np.sqrt(p[k + ".var"] + 1e-5)
        total += np.mean((m - p[k + ".mean"]) ** 2 + (s - sigma) ** 2)
    return total


def check(model, random, step1, final, log):
    p = params(model)
    flat = lambda f: np.load(f).astype(np.float64).reshape(-1, 3, 16, 16)  # noqa: E731
    x0, x1, xf = flat(random), flat(step1), flat(final)
    ok = True
    moved = (x0 - x1) / LR  # = sign(g) where g != 0
    rng = np.random.default_rng(1)
    checked = 0
    for idx in rng.permutation(x0.size):
        if checked == 48:
            break
        i = np.unravel_index(idx, x0.shape)
        h = 1e-4
        xp, xm = x0.copy(), x0.copy()
        xp[i] += h
        xm[i] -= h
        fd = (loss(p, xp) - loss(p, xm)) / (2 * h)
        if abs(fd) < 1e-6:
            continue
        checked += 1
        if np.sign(fd) != np.sign(round(moved[i], 3)):
            print(f"gradient sign mismatch at {i}: finite difference {fd:.3e}, qopt step {moved[i]:.3f}")
            ok = False
    print(f"gradient signs checked at {checked} elements")
    printed = float(re.findall(r"loss ([0-9.e+-]+)", open(log).read())[-1])
    l0, lf = loss(p, x0), loss(p, xf)
    print(f"loss: N(0,1) start {l0:.4e}, final {lf:.4e} (qopt printed {printed:.4e})")
    if abs(printed - lf) > 2e-3 * lf + 1e-6:
        print("qopt's printed loss differs from the NumPy loss")
        ok = False
    if not lf < 0.05 * l0:
        print("the BN statistics loss did not drop below 5 % of the start")
        ok = False
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


def make_bad(out):
    """Conv -> Softmax -> BatchNormalization: Softmax is not differentiated."""
    w = numpy_helper.from_array(np.ones((4, 3, 1, 1), np.float32), "w")
    bn = [numpy_helper.from_array(np.full(4, v, np.float32), k)
          for k, v in (("s", 1), ("b", 0), ("m", 0), ("v", 1))]
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv"),
             helper.make_node("Softmax", ["c"], ["p"], name="soft", axis=1),
             helper.make_node("BatchNormalization", ["p", "s", "b", "m", "v"], ["y"], name="bn")]
    g = helper.make_graph(nodes, "bad", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 4, 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 4, 4])], [w] + bn)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.save(m, out)


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2])
    elif sys.argv[1] == "make-bad":
        make_bad(sys.argv[2])
    else:
        sys.exit(check(*sys.argv[2:7]))
