#!/usr/bin/env python3
"""check_close.py REF OUT TOL: prints OK rel_err=... if
||out - ref|| / ||ref|| <= TOL, else FAIL. REF/OUT: .npy or ONNX TensorProto .pb.
check_close.py --better REF A B: prints OK better if A's relative error is
strictly below B's, else FAIL.
check_close.py --same A B: prints OK same bytes if A and B hold the same
dtype, shape and bytes (bit-identical results), else FAIL."""
import sys

import numpy as np


def load(path):
    if path.endswith(".pb"):
        from onnx import TensorProto, numpy_helper
        t = TensorProto()
        with open(path, "rb") as f:
            t.ParseFromString(f.read())
        return numpy_helper.to_array(t)
    return np.load(path)


def rel(ref, path):
    out = load(path).astype(np.float64)
    return np.linalg.norm(out - ref) / np.linalg.norm(ref)


if sys.argv[1] == "--same":
    a, b = load(sys.argv[2]), load(sys.argv[3])
    same = a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    print("OK same bytes" if same else f"FAIL {a.dtype}{a.shape} vs {b.dtype}{b.shape}")
    sys.exit(0)
if sys.argv[1] == "--better":
    ref = load(sys.argv[2]).astype(np.float64)
    a, b = rel(ref, sys.argv[3]), rel(ref, sys.argv[4])
    print(("OK better" if a < b else "FAIL not better") + f" {a:.3e} vs {b:.3e}")
    sys.exit(0)
ref = load(sys.argv[1]).astype(np.float64)
r = rel(ref, sys.argv[2])
print(("OK" if r <= float(sys.argv[3]) else "FAIL") + f" rel_err={r:.3e}")
