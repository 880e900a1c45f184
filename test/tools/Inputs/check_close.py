#!/usr/bin/env python3
"""check_close.py REF OUT TOL: prints OK rel_err=... if
||out - ref|| / ||ref|| <= TOL, else FAIL. REF/OUT: .npy or ONNX TensorProto .pb."""
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


ref = load(sys.argv[1]).astype(np.float64)
out = load(sys.argv[2]).astype(np.float64)
rel = np.linalg.norm(out - ref) / np.linalg.norm(ref)
print(("OK" if rel <= float(sys.argv[3]) else "FAIL") + f" rel_err={rel:.3e}")
