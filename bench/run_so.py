#!/usr/bin/env python3
"""Runs and times a compiled model (.so + .weights) through its C API
(model.h) with ctypes and numpy only: no qopt build, no libMLIR. For
machines that only receive the artifacts (bench/device-cpu.sh).

  run_so.py MODEL.so --input NAME=FILE.npy ... [--threads N] [--bench RUNS]
            [--output-dir DIR]

Prints `median_ms=.. min_ms=.. cpu_ms=..` like `qopt-run --bench` (cpu_ms:
process CPU time per run) and writes each output as DIR/NAME.npy."""
import argparse
import ctypes as C
import os
import statistics
import sys
import time

import numpy as np

DTYPES = {1: np.float32, 2: np.uint8, 3: np.int8, 4: np.uint16, 5: np.int16,
          6: np.int32, 7: np.int64, 9: np.bool_, 10: np.float16,
          11: np.float64, 12: np.uint32, 13: np.uint64}


class Tensor(C.Structure):
    _fields_ = [("name", C.c_char_p), ("dtype", C.c_int32),
                ("rank", C.c_int32), ("shape", C.POINTER(C.c_int64)),
                ("data", C.c_void_p)]


class Info(C.Structure):
    _fields_ = [("name", C.c_char_p), ("dtype", C.c_int32),
                ("rank", C.c_int32), ("shape", C.POINTER(C.c_int64)),
                ("num_bytes", C.c_size_t)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--input", action="append", default=[])
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--bench", type=int, default=0)
    ap.add_argument("--output-dir")
    a = ap.parse_args()
    lib = C.CDLL(os.path.abspath(a.model))
    lib.qopt_last_error.restype = C.c_char_p
    model = C.c_void_p()

    def check(status, what):
        if status != 0:
            sys.exit(f"{a.model}: {what}: {lib.qopt_last_error().decode()}")

    check(lib.qopt_model_load(None, C.byref(model)), "load")
    lib.qopt_model_num_inputs.restype = C.c_size_t
    lib.qopt_model_num_outputs.restype = C.c_size_t
    given = dict(s.split("=", 1) for s in a.input)
    keep, ins, outs, names = [], [], [], []
    for i in range(lib.qopt_model_num_inputs(model)):
        info = Info()
        check(lib.qopt_model_input_info(model, C.c_size_t(i), C.byref(info)),
              "input info")
        name = info.name.decode()
        if name not in given:
            sys.exit(f"{a.model}: missing --input {name}=FILE.npy")
        x = np.ascontiguousarray(np.load(given[name]),
                                 dtype=DTYPES[info.dtype])
        shape = (C.c_int64 * x.ndim)(*x.shape)
        keep += [x, shape]
        ins.append(Tensor(info.name, info.dtype, x.ndim, shape,
                          x.ctypes.data))
    for i in range(lib.qopt_model_num_outputs(model)):
        info = Info()
        check(lib.qopt_model_output_info(model, C.c_size_t(i), C.byref(info)),
              "output info")
        dims = [info.shape[d] for d in range(info.rank)]
        y = np.empty(dims, dtype=DTYPES[info.dtype])
        keep.append(y)
        names.append((info.name.decode(), y))
        outs.append(Tensor(info.name, info.dtype, info.rank, info.shape,
                           y.ctypes.data))
    tin = (Tensor * len(ins))(*ins)
    tout = (Tensor * len(outs))(*outs)
    if a.threads > 0:
        lib.qopt_set_num_threads(a.threads)

    def run():
        check(lib.qopt_run(model, tin, C.c_size_t(len(ins)), tout,
                           C.c_size_t(len(outs))), "run")

    run()
    if a.bench:
        for _ in range(min(3, a.bench)):
            run()
        times = []
        c0 = time.process_time()
        for _ in range(a.bench):
            t0 = time.perf_counter()
            run()
            times.append((time.perf_counter() - t0) * 1e3)
        cpu = (time.process_time() - c0) * 1e3 / a.bench
        print(f"median_ms={statistics.median(times):.4f} "
              f"min_ms={min(times):.4f} cpu_ms={cpu:.4f}")
    if a.output_dir:
        os.makedirs(a.output_dir, exist_ok=True)
        for name, y in names:
            np.save(os.path.join(a.output_dir, name + ".npy"), y)


if __name__ == "__main__":
    main()
