#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
"""An independent NumPy implementation of TensorRT's entropy (KL-divergence)
calibration, to check qopt's `--calib-method=entropy` on the same histograms.

    entropy_ref.py compare STATS.json REPORT.json [TOL]
        STATS: --save-calibration output; REPORT: --report of a compile with
        --load-calibration=STATS --calib-method=entropy (act-scheme sym).
        Prints, per layer, qopt's clip threshold, the reference's and their
        ratio; exits 1 if a ratio is off by more than TOL (default 0.02) or
        more than one histogram bin.
    entropy_ref.py synth IN_STATS.json OUT_STATS.json
        Replaces every observer's histogram by a synthetic one (Gaussian,
        Laplacian with an outlier tail, half-normal with a spike at 0, ...),
        to run `compare` on known shapes.

Algorithm (Migacz, "8-bit Inference with TensorRT", GTC 2017): histogram of
|x| in 2048 bins over [0, max|x|]; for every candidate i in [128, 2048]:
P = bins[0:i] with the outliers (bins[i:]) added to P[i-1]; Q = bins[0:i]
merged into 128 levels (bin k -> level floor(128 k / i), as numpy.digitize
over linspace(0, i, 129)), each level's count spread evenly over its
non-empty bins; P and Q normalised; threshold = i * bin width for the i of
minimal KL(P || Q) (the first one on ties).
"""
import json
import sys

import numpy as np

LEVELS = 128


def kl_curve(hist):
    hist = np.asarray(hist, np.float64)
    B = len(hist)
    out = {}
    for i in range(LEVELS, B + 1):
        p = hist[:i].copy()
        p[i - 1] += hist[i:].sum()
        level = np.digitize(np.arange(i), np.linspace(0, i, LEVELS + 1)) - 1
        nz = hist[:i] != 0
        tot = np.bincount(level, weights=hist[:i], minlength=LEVELS)
        cnt = np.bincount(level, weights=nz.astype(np.float64), minlength=LEVELS)
        q = np.where(nz, tot[level] / np.maximum(cnt[level], 1.0), 0.0)
        if p.sum() <= 0 or q.sum() <= 0:
            continue
        p /= p.sum()
        q /= q.sum()
        m = p > 0
        with np.errstate(divide="ignore"):
            out[i] = float(np.sum(p[m] * np.log(p[m] / q[m])))
    return out


def threshold(hist, width):
    if len(hist) <= LEVELS:
        return len(hist) * width
    curve = kl_curve(hist)
    if not curve:
        return len(hist) * width
    best = min(curve, key=lambda i: (curve[i], i))
    return best * width


def synth(inp, outp):
    stats = json.load(open(inp))
    rng = np.random.default_rng(0)
    shapes = [
        lambda n: rng.standard_normal(n),
        lambda n: np.concatenate([rng.laplace(size=n), rng.laplace(size=n // 500) * 40]),
        lambda n: np.where(rng.random(n) < 0.3, 0.0, np.abs(rng.standard_normal(n))),
        lambda n: rng.standard_t(3, size=n),
    ]
    for k, (name, o) in enumerate(sorted(stats["observers"].items())):
        x = shapes[k % len(shapes)](200000).astype(np.float32)
        a = float(np.abs(x).max())
        h, _ = np.histogram(np.abs(x), bins=len(o["hist"]), range=(0, a))
        o.update(min=float(x.min()), max=float(x.max()), hist_range=a,
                 hist=[float(v) for v in h])
    json.dump(stats, open(outp, "w"))
    return 0


def compare(stats_path, report_path, tol):
    obs = json.load(open(stats_path))["observers"]
    bad = 0
    for L in json.load(open(report_path))["layers"]:
        act = L.get("activation")
        if not act or L["name"] not in obs:
            continue
        s = obs[L["name"]]
        width = s["hist_range"] / len(s["hist"])
        ref = min(threshold(s["hist"], width), s["hist_range"])
        got = act["clip_max"]
        ok = abs(got - ref) <= max(tol * ref, width * 1.0001)
        bad += not ok
        print("%-40s qopt %.6g ref %.6g ratio %.4f bins %+d %s" %
              (L["name"], got, ref, got / ref if ref else float("nan"),
               round((got - ref) / width), "OK" if ok else "DIFF"))
    print("entropy: %s" % ("OK" if not bad else "%d layer(s) differ" % bad))
    return 1 if bad else 0


def main(argv):
    if len(argv) in (3, 4) and argv[0] == "compare":
        return compare(argv[1], argv[2], float(argv[3]) if len(argv) == 4 else 0.02)
    if len(argv) == 3 and argv[0] == "synth":
        return synth(argv[1], argv[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
