#!/usr/bin/env python3
"""Raw uint8 token windows -> calibration .npy for a token-id LM.

    /usr/bin/python3 python/qopt/tokens_to_npy.py calib_tokens.bin calib.npy \
        [--window 128] [--seq 128]

TOKENS.bin is uint8 [N, window] row-major, no header (e.g. llama-tiny's
calib_tokens.bin: [128, 128]). Each row's first `seq` tokens become one
sample; the output is int64 [N, 1, seq] (a leading sample axis, then the
model input's shape [1, seq]), the format of `qopt-compile --calib`.
"""
import argparse
import os
import sys

import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("tokens")
    ap.add_argument("out")
    ap.add_argument("--window", type=int, default=128, help="tokens per row in the file")
    ap.add_argument("--seq", type=int, default=0, help="tokens per sample (default: the window)")
    args = ap.parse_args()
    data = np.fromfile(args.tokens, dtype=np.uint8)
    if data.size == 0 or data.size % args.window:
        sys.exit(f"{args.tokens}: size {data.size} is not a positive multiple of the window {args.window}")
    rows = data.reshape(-1, args.window)
    seq = args.seq or args.window
    if seq > args.window:
        sys.exit(f"--seq {seq} is longer than the window {args.window}")
    arr = rows[:, :seq].astype(np.int64)[:, None, :]
    tmp = args.out + ".tmp"
    with open(tmp, "wb") as f:
        np.save(f, arr)
    os.replace(tmp, args.out)
    print(f"{args.out}: int64 {list(arr.shape)}")


if __name__ == "__main__":
    main()
