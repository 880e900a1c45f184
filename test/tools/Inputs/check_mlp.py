"""Checks DIR/y_0.npy against a NumPy reference of Inputs/mlp.mlir."""
import sys
import numpy as np

x = np.load(sys.argv[1])
y = np.load(sys.argv[2])
w = ((np.arange(16 * 32).reshape(16, 32) % 7) - 3) * 0.25
b = (np.arange(32) % 5 - 2) * 0.5
ref = np.maximum(x.astype(np.float64) @ w + b, 0)
assert y.dtype == np.float32 and y.shape == (2, 32), (y.dtype, y.shape)
err = np.abs(y - ref).max()
assert err < 1e-4, err
print("OK max_err=%g" % err)
