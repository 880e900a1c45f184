#!/usr/bin/env python3
"""Procedural 10-class image data ("shapes10") for CNN quantization work.

    images, labels = make(n, seed)   # float32 [n, 3, 32, 32] (normalised), int64 [n]

Classes: 0 disc, 1 square, 2 triangle, 3 ring, 4 square outline, 5 plus,
6 diagonal cross, 7 horizontal stripes, 8 vertical stripes, 9 checkerboard;
random position, size, colours, a faint second shape as clutter and strong
pixel noise (FP32 accuracy well below 100 %, so quantization shows). Deterministic per seed, so
training (python/qopt/train_shapes_cnn.py), calibration and evaluation
(python/qopt/eval_classifier.py) draw disjoint sets by seed without storing
any image. NumPy only.
"""
import numpy as np

SIZE = 32
CLASSES = ["disc", "square", "triangle", "ring", "square outline", "plus",
           "diagonal cross", "horizontal stripes", "vertical stripes",
           "checkerboard"]
# Per-channel normalisation of the raw [0, 1] pixels (fixed, like ImageNet's).
MEAN = np.array([0.5, 0.5, 0.5], np.float32)
STD = np.array([0.25, 0.25, 0.25], np.float32)


def _mask(cls, rng):
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32) + 0.5
    cy, cx = rng.uniform(10, 22, 2)
    r = rng.uniform(3.5, 10)
    dy, dx = y - cy, x - cx
    t = rng.uniform(1.5, 3.0)  # stroke width
    if cls == 0:
        return dy * dy + dx * dx <= r * r
    if cls == 1:
        return (np.abs(dy) <= r * 0.8) & (np.abs(dx) <= r * 0.8)
    if cls == 2:
        return (dy <= r * 0.7) & (dy >= -r) & (np.abs(dx) <= (dy + r) * 0.6)
    if cls == 3:
        d = np.sqrt(dy * dy + dx * dx)
        return np.abs(d - r) <= t / 2 + 0.3
    if cls == 4:
        m = np.maximum(np.abs(dy), np.abs(dx))
        return np.abs(m - r * 0.8) <= t / 2 + 0.3
    if cls == 5:
        return ((np.abs(dy) <= t / 2 + 0.3) & (np.abs(dx) <= r)) | \
               ((np.abs(dx) <= t / 2 + 0.3) & (np.abs(dy) <= r))
    if cls == 6:
        a = np.abs(dy - dx) / np.sqrt(2)
        b = np.abs(dy + dx) / np.sqrt(2)
        inside = np.maximum(np.abs(dy), np.abs(dx)) <= r * 0.8
        return ((a <= t / 2 + 0.3) | (b <= t / 2 + 0.3)) & inside
    period = rng.uniform(4, 8)
    phase = rng.uniform(0, period)
    if cls == 7:
        return ((y + phase) % period) < period / 2
    if cls == 8:
        return ((x + phase) % period) < period / 2
    return (((y + phase) // (period / 1.5) + (x + phase) // (period / 1.5)) % 2) == 0


def make(n, seed):
    rng = np.random.default_rng(seed)
    images = np.empty((n, 3, SIZE, SIZE), np.float32)
    labels = rng.integers(0, len(CLASSES), n)
    for i in range(n):
        m = _mask(int(labels[i]), rng)
        bg = rng.uniform(0, 1, 3).astype(np.float32)
        fg = rng.uniform(0, 1, 3).astype(np.float32)
        while np.abs(fg - bg).max() < 0.15:
            fg = rng.uniform(0, 1, 3).astype(np.float32)
        img = np.where(m[None], fg[:, None, None], bg[:, None, None])
        # Clutter: a faint mask of another random class, then strong noise.
        other = _mask(int(rng.integers(0, len(CLASSES))), rng)
        img = np.where(other[None] & ~m[None], img * 0.7 + 0.3 * rng.uniform(0, 1, (3, 1, 1)), img)
        img = img + rng.normal(0, 0.3, img.shape).astype(np.float32)
        images[i] = (img - MEAN[:, None, None]) / STD[:, None, None]
    return images, labels.astype(np.int64)
