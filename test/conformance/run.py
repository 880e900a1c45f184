#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
"""ONNX backend conformance runner for qopt-run.

Runs every test of the ONNX backend test data (libonnx-testdata:
node, pytorch-converted, pytorch-operator, simple) through qopt-run and
compares the outputs with the reference outputs.

Each test directory holds model.onnx and test_data_set_*/{input,output}_N.pb.
For every data set we run

    qopt-run MODEL --input NAME=input_N.pb ... --output-dir TMP

where NAME is the N-th graph input that is not an initializer, and read
TMP/<sanitized output name>.npy for each graph output (sanitized: every
character outside [A-Za-z0-9._-] becomes '_').

Classification of a test (all of its data sets):
  pass         every output matches (shape, dtype and values);
  unsupported  the model uses sequence/optional/map/string types, or qopt-run
               exits non-zero with a message containing "unsupported";
  fail         anything else: wrong numbers, wrong shape/dtype, missing
               output, error exit, crash (signal), timeout.

Comparison: floats with rtol/atol (default 1e-4/1e-5; float16/bfloat16
outputs 1e-3/1e-3; see TOLERANCES for per-test overrides and why), NaN equals
NaN, infinities must match; integers and bools exactly.

Every input is fed at run time (--input), shape operands (Reshape's
shape, Slice's starts, Resize's scales, TopK's K, ...) included, as the ONNX
tests do. --specialize compiles instead for the values of the inputs that
shape operands are computed from (--const-input; README.md).

Modes:
  (default)  run and print per-suite counts (-v: one line per non-pass);
  --check    exit 1 if a test listed in passing.txt no longer passes;
  --update   rewrite passing.txt with the tests that pass (tests outside the
             current selection keep their entries);
  --specialize [--only-listed --list passing-specialized.txt]
             the specialized compile (CI checks the listed tests with it).

Needs numpy and onnx (Debian's /usr/bin/python3 has both).
"""

import argparse
import concurrent.futures
import glob
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
from onnx import numpy_helper

# An ASan/UBSan build (scripts/test-sanitizers.sh) reports with these.
SANITIZER_REPORTS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                     "runtime error:")

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_DATA = "/usr/share/libonnx-testdata/data"
DEFAULT_SUITES = ["node", "pytorch-converted", "pytorch-operator", "simple"]
PASSING_FILE = os.path.join(HERE, "passing.txt")
SPECIALIZED_FILE = os.path.join(HERE, "passing-specialized.txt")

DEFAULT_RTOL, DEFAULT_ATOL = 1e-4, 1e-5
# Half-precision outputs carry ~3 significant decimal digits.
HALF_RTOL, HALF_ATOL = 1e-3, 1e-3
# bfloat16 outputs: one bf16 ulp (2^-7 relative). The ONNX 1.12 reference
# truncates float -> bfloat16, we round to nearest even (what ONNX specifies
# from opset 19 on).
BF16_RTOL, BF16_ATOL = 2.0 ** -7, 1e-38

# Per-test tolerance overrides: (regex on "suite/test", rtol, atol, why).
# The first matching entry wins. Keep every entry justified.
TOLERANCES = [
    # The reference data of these models was produced by PyTorch (different
    # summation order in large convolutions / matmuls than ours: relative
    # error of f32 dot products of length ~1e3-1e4 is ~1e-4 on outputs near 0).
    (r"^pytorch-converted/", 1e-3, 1e-4,
     "PyTorch-generated references with long f32 accumulations"),
    # The references of the expanded (function body) window tests deviate
    # from the exact windows by up to 7.4e-5 (e.g. hann(10)[8]: exact
    # 0.3454915, reference 0.3455620; ours 0.3454914).
    (r"^node/test_(blackman|hamming|hann)window(_symmetric)?_expanded$",
     1e-4, 1e-4, "inexact references of the expanded window functions"),
]

NON_TENSOR_FIELDS = ("sequence_type", "optional_type", "map_type",
                     "sparse_tensor_type")


def sanitize(name):
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


def non_tensor_reason(model):
    """A reason string if the model's interface/value_info uses types we do
    not support (sequence, optional, map, string), else None."""
    g = model.graph
    for vi in list(g.input) + list(g.output) + list(g.value_info):
        t = vi.type
        which = t.WhichOneof("value")
        if which in NON_TENSOR_FIELDS:
            return "%s type (%s)" % (which.replace("_type", ""), vi.name)
        if which == "tensor_type" and \
                t.tensor_type.elem_type == onnx.TensorProto.STRING:
            return "string tensor (%s)" % vi.name
    for init in g.initializer:
        if init.data_type == onnx.TensorProto.STRING:
            return "string tensor (%s)" % init.name
    return None


def tolerance(test_id, dtype):
    for pat, rtol, atol, _ in TOLERANCES:
        if re.search(pat, test_id):
            return rtol, atol
    if dtype.name == "bfloat16":
        return BF16_RTOL, BF16_ATOL
    if dtype == np.float16:
        return HALF_RTOL, HALF_ATOL
    return DEFAULT_RTOL, DEFAULT_ATOL


def bf16_bits_to_f32(a):
    return (a.astype(np.uint32) << 16).view(np.float32)


def compare(test_id, name, actual, expected, bf16=False):
    """None if equal enough, else a one-line reason. bf16: both arrays are
    bfloat16 bit patterns (uint16; NumPy has no bfloat16)."""
    if actual.dtype != expected.dtype:
        return "%s: dtype %s, expected %s" % (name, actual.dtype,
                                               expected.dtype)
    if actual.shape != expected.shape:
        return "%s: shape %s, expected %s" % (name, list(actual.shape),
                                               list(expected.shape))
    if actual.size == 0:
        return None
    bf16 = bf16 and expected.dtype == np.uint16
    if bf16:
        actual, expected = bf16_bits_to_f32(actual), bf16_bits_to_f32(expected)
    if np.issubdtype(expected.dtype, np.floating):
        rtol, atol = (BF16_RTOL, BF16_ATOL) if bf16 else \
            tolerance(test_id, expected.dtype)
        a = actual.astype(np.float64)
        e = expected.astype(np.float64)
        with np.errstate(invalid="ignore", over="ignore"):
            ok = np.isclose(a, e, rtol=rtol, atol=atol, equal_nan=True)
        if ok.all():
            return None
        bad = np.flatnonzero(~ok)
        k = bad[0]
        with np.errstate(invalid="ignore", over="ignore"):
            err = np.abs(a - e)
            finite = np.isfinite(err)
            maxerr = err[finite].max() if finite.any() else float("nan")
        return ("%s: %d/%d values differ (max abs err %.3g; first at flat "
                "index %d: got %r, expected %r)" %
                (name, len(bad), e.size, maxerr, k, a.flat[k], e.flat[k]))
    if np.array_equal(actual, expected):
        return None
    bad = np.flatnonzero(actual != expected)
    k = bad[0]
    return ("%s: %d/%d values differ (first at flat index %d: got %r, "
            "expected %r)" % (name, len(bad), expected.size, k,
                              actual.flat[k].item(), expected.flat[k].item()))


def first_error_line(text):
    """The most informative line of qopt-run's output."""
    lines = [re.sub(r'^loc\(.*?":\d+:\d+\)\)?: ', "", l.strip())
             for l in text.splitlines() if l.strip()]
    for key in ("unsupported", "error", "Error", "Assertion", "LLVM ERROR"):
        for i, l in enumerate(lines):
            if key in l:
                # "N unsupported ONNX node(s):" lists them on the next lines.
                if l.endswith(":") and i + 1 < len(lines):
                    return l + " " + "; ".join(lines[i + 1:i + 4])
                return l
    return lines[-1] if lines else "(no output)"


def reason_category(reason):
    """Groups failure reasons: drops quoted names, numbers and values."""
    r = re.sub(r"'[^']*'", "'_'", reason)
    r = re.sub(r" \((first at|max abs err).*", "", r)
    r = re.sub(r"\[[^\]]*\]", "[_]", r)
    r = re.sub(r"-?\d+(\.\d+)?(e[-+]?\d+)?", "N", r)
    r = re.sub(r"^mismatch: [^:]*:", "mismatch:", r)
    r = re.sub(r"^(exit N: )?\S+:N:N: ", r"\1", r)  # file:line:col
    return r[:160]


def run_cmd(cmd, timeout):
    """(returncode or None on timeout, combined output, seconds)."""
    t0 = time.time()
    try:
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             start_new_session=True)
    except OSError as e:
        return -999, "cannot execute %s: %s" % (cmd[0], e), 0.0
    try:
        out, _ = p.communicate(timeout=timeout)
        rc = p.returncode
    except subprocess.TimeoutExpired:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except OSError:
            pass
        out, _ = p.communicate()
        rc = None
    return rc, out.decode("utf-8", "replace"), time.time() - t0


def load_tensor(path):
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return t


NEEDS_CONST = ("must be a constant", "non-constant")
# "node 'N' (Op, opset 13): 'operand' must be a constant ..." (also
# "scales must be a constant", "unsupported non-constant 'axes' input").
NODE_ERROR_RE = re.compile(r"node '(.*?)' \((\w+), opset (\d+)\): (.*)")
MAX_SPECIALIZE_ROUNDS = 8


def graph_inputs_behind(model, tensor, in_names):
    """The graph inputs (of in_names) that `tensor` is computed from."""
    producer = {}
    for node in model.graph.node:
        for o in node.output:
            producer[o] = node
    found, seen, todo = [], set(), [tensor]
    while todo:
        t = todo.pop()
        if not t or t in seen:
            continue
        seen.add(t)
        if t in in_names:
            found.append(t)
        elif t in producer:
            todo.extend(producer[t].input)
    return found


# Inputs that are shape-like operands (sizes, axes, counts, scales): with
# --specialize, the graph inputs they are computed from become constants.
SHAPE_OPERANDS = {
    "Reshape": [1], "Slice": [1, 2, 3, 4], "Unsqueeze": [1], "Squeeze": [1],
    "Split": [1], "Range": [0, 1, 2], "Expand": [1], "Tile": [1, 2],
    "ConstantOfShape": [0], "Pad": [1, 3], "Resize": [1, 2, 3],
    "Upsample": [1], "TopK": [1], "CumSum": [1], "OneHot": [1],
    "ReduceSum": [1], "ReduceMean": [1], "ReduceMax": [1], "ReduceMin": [1],
    "ReduceProd": [1], "ReduceL1": [1], "ReduceL2": [1],
    "ReduceLogSum": [1], "ReduceLogSumExp": [1], "ReduceSumSquare": [1],
    "Trilu": [1], "Dropout": [2],
}


def shape_operand_inputs(model, in_names):
    """Graph inputs (of in_names) behind some node's shape operand."""
    found = set()
    for node in model.graph.node:
        for k in SHAPE_OPERANDS.get(node.op_type, []):
            if k < len(node.input) and node.input[k]:
                found.update(graph_inputs_behind(model, node.input[k],
                                                 in_names))
    return [n for n in in_names if n in found]


def inputs_needed_constant(model, output, in_names):
    """Graph inputs that qopt-run's "must be a constant" error asks for: the
    operand the message names, traced back to the graph inputs it is computed
    from. Falls back to every input but the first when the message cannot be
    resolved."""
    wanted = []
    for line in output.splitlines():
        if not any(k in line for k in NEEDS_CONST):
            continue
        m = NODE_ERROR_RE.search(line)
        if not m:
            continue
        name, op, opset, rest = m.group(1), m.group(2), int(m.group(3)), \
            m.group(4)
        operands = re.findall(r"'([^']+)'", rest)
        lead = re.match(r"([\w/]+) must be a constant", rest)
        if lead:
            operands.append(lead.group(1))
        operands = [o for x in operands for o in x.split("/")]
        nodes = [n for n in model.graph.node if n.name == name]
        if not nodes:  # unnamed nodes: the importer names them <Op>_<k>
            nodes = [n for n in model.graph.node if n.op_type == op]
        for node in nodes:
            try:
                schema = onnx.defs.get_schema(node.op_type, opset, node.domain)
            except Exception:  # noqa: BLE001 - unknown op: no schema
                continue
            formal = [p.name for p in schema.inputs]
            for o in operands:
                if o in formal and formal.index(o) < len(node.input):
                    wanted += graph_inputs_behind(
                        model, node.input[formal.index(o)], in_names)
    if not wanted:
        wanted = in_names[1:]
    return [n for n in in_names if n in set(wanted)]


def run_test(suite, test_dir, qopt_run, timeout, extra_args, specialize=False):
    """Returns (status, reason, seconds); a specialized pass has the reason
    'specialized: INPUT,...' (the inputs compiled in as constants)."""
    test_id = "%s/%s" % (suite, os.path.basename(test_dir))
    t0 = time.time()
    try:
        model = onnx.load(os.path.join(test_dir, "model.onnx"))
    except Exception as e:  # noqa: BLE001 - any load problem is a failure
        return "fail", "cannot load model: %s" % e, 0.0
    why = non_tensor_reason(model)
    if why:
        return "unsupported", "non-tensor types: " + why, 0.0
    inits = {i.name for i in model.graph.initializer}
    in_names = [i.name for i in model.graph.input if i.name not in inits]
    out_names = [o.name for o in model.graph.output]
    out_bf16 = [o.type.tensor_type.elem_type == onnx.TensorProto.BFLOAT16
                for o in model.graph.output]
    specialized = set()
    data_sets = sorted(glob.glob(os.path.join(test_dir, "test_data_set_*")))
    if not data_sets:
        return "fail", "no test_data_set_*", 0.0
    for ds in data_sets:
        ds_name = os.path.basename(ds)
        inputs = sorted(glob.glob(os.path.join(ds, "input_*.pb")),
                        key=lambda p: int(re.findall(r"\d+", os.path.basename(p))[0]))
        outputs = sorted(glob.glob(os.path.join(ds, "output_*.pb")),
                         key=lambda p: int(re.findall(r"\d+", os.path.basename(p))[0]))
        if len(inputs) > len(in_names):
            return "fail", "%s: %d inputs for %d graph inputs" % (
                ds_name, len(inputs), len(in_names)), time.time() - t0
        with tempfile.TemporaryDirectory(prefix="qopt-conf-") as tmp:
            def command(consts):
                cmd = [qopt_run, os.path.join(test_dir, "model.onnx")]
                for name, pb in zip(in_names, inputs):
                    cmd += ["--const-input" if name in consts else "--input",
                            "%s=%s" % (name, pb)]
                return cmd + ["--output-dir", tmp] + extra_args
            # --specialize: shape operands (shape, axes, pads, scales, ...)
            # that are graph inputs are compiled in as constants, as a user
            # of a static-shape compiler would; this is still a full
            # compile + run of the model (README.md).
            consts = set(shape_operand_inputs(
                model, in_names[:len(inputs)])) if specialize else set()
            if consts:
                specialized.update(consts)
            rc, out, _ = run_cmd(command(consts), timeout)
            # Operands qopt-run still says must be constant: add the inputs
            # they are computed from and retry.
            rounds = 0
            while specialize and rc not in (None, 0) and \
                    any(k in out for k in NEEDS_CONST) and \
                    rounds < MAX_SPECIALIZE_ROUNDS:
                more = set(inputs_needed_constant(
                    model, out, in_names[:len(inputs)])) - consts
                if not more:
                    break
                consts |= more
                specialized.update(more)
                rounds += 1
                rc, out, _ = run_cmd(command(consts), timeout)
            if rc is None:
                return "fail", "timeout after %ss" % timeout, time.time() - t0
            if rc < 0:
                try:
                    sig = signal.Signals(-rc).name
                except ValueError:
                    sig = "signal %d" % -rc
                return "fail", "crash (%s): %s" % (sig, first_error_line(out)), \
                    time.time() - t0
            crashed = "Stack dump:" in out or "PLEASE submit a bug report" in out \
                or any(k in out for k in SANITIZER_REPORTS)
            if rc != 0 and crashed:
                return "fail", "crash (exit %d): %s" % (rc, first_error_line(out)), \
                    time.time() - t0
            if rc != 0:
                line = first_error_line(out)
                if "unsupported" in out:
                    return "unsupported", line, time.time() - t0
                return "fail", "exit %d: %s" % (rc, line), time.time() - t0
            for k, (name, pb) in enumerate(zip(out_names, outputs)):
                path = os.path.join(tmp, sanitize(name) + ".npy")
                if not os.path.exists(path):
                    return "fail", "output '%s' not written" % name, \
                        time.time() - t0
                try:
                    actual = np.load(path, allow_pickle=False)
                    expected = numpy_helper.to_array(load_tensor(pb))
                except Exception as e:  # noqa: BLE001
                    return "fail", "cannot read output '%s': %s" % (name, e), \
                        time.time() - t0
                diff = compare(test_id, name, actual, expected, out_bf16[k])
                if diff:
                    if len(data_sets) > 1:
                        diff = ds_name + ": " + diff
                    return "fail", "mismatch: " + diff, time.time() - t0
    if specialized:
        return "pass", "specialized: " + ",".join(sorted(specialized)), \
            time.time() - t0
    return "pass", "", time.time() - t0


def default_qopt_run():
    build = os.environ.get("QOPT_BUILD")
    if build:
        return os.path.join(build, "bin", "qopt-run")
    return os.path.join(REPO, "build", "bin", "qopt-run")


def read_list(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [l.strip() for l in f
                if l.strip() and not l.lstrip().startswith("#")]


def main():
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--qopt-run", default=default_qopt_run(),
                    help="qopt-run binary (default: $QOPT_BUILD/bin/qopt-run "
                         "or <repo>/build/bin/qopt-run)")
    ap.add_argument("--data", default=DEFAULT_DATA,
                    help="test data root (default: %(default)s)")
    ap.add_argument("--suites", default=",".join(DEFAULT_SUITES),
                    help="comma-separated suites (default: %(default)s)")
    ap.add_argument("--filter", default=None,
                    help="only tests whose 'suite/test' matches this regex")
    ap.add_argument("-j", "--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=60.0,
                    help="seconds per qopt-run invocation (default 60)")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="one line per failing/unsupported test")
    ap.add_argument("--show-unsupported", action="store_true",
                    help="with -v, also list unsupported tests")
    ap.add_argument("--check", action="store_true",
                    help="exit 1 if a test listed in the passing list regressed")
    ap.add_argument("--update", action="store_true",
                    help="rewrite the passing list")
    ap.add_argument("--list", default=None,
                    help="passing list (default: passing.txt, with "
                         "--specialize passing-specialized.txt)")
    ap.add_argument("--only-listed", action="store_true",
                    help="run only the tests of the passing list")
    ap.add_argument("--results", default=None,
                    help="write 'suite/test<TAB>status<TAB>seconds<TAB>reason' "
                         "for every test to this file")
    ap.add_argument("--summary", type=int, nargs="?", const=20, default=0,
                    metavar="N", help="print the N most common failure "
                                      "reasons (grouped; default 20)")
    ap.add_argument("--specialize", action="store_true",
                    help="pass the graph inputs behind shape operands (and "
                         "those qopt-run says must be constant) as "
                         "--const-input; --update then lists only tests "
                         "where that bound some input")
    ap.add_argument("--no-specialize", action="store_true",
                    help=argparse.SUPPRESS)  # the default; kept for scripts
    ap.add_argument("--run-arg", action="append", default=[],
                    help="extra argument passed to qopt-run (repeatable)")
    args = ap.parse_args()

    if not os.access(args.qopt_run, os.X_OK):
        sys.exit("error: qopt-run not found or not executable: %s "
                 "(use --qopt-run or QOPT_BUILD)" % args.qopt_run)
    if args.list is None:
        args.list = SPECIALIZED_FILE if args.specialize else PASSING_FILE
    only = set(read_list(args.list)) if args.only_listed else None
    suites = [s for s in args.suites.split(",") if s]
    filt = re.compile(args.filter) if args.filter else None
    tests = []
    for suite in suites:
        sdir = os.path.join(args.data, suite)
        if not os.path.isdir(sdir):
            sys.exit("error: no suite directory %s" % sdir)
        for d in sorted(os.listdir(sdir)):
            test_id = "%s/%s" % (suite, d)
            if not os.path.exists(os.path.join(sdir, d, "model.onnx")):
                continue
            if filt and not filt.search(test_id):
                continue
            if only is not None and test_id not in only:
                continue
            tests.append((suite, os.path.join(sdir, d), test_id))

    results = {}
    t0 = time.time()
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
        futs = {ex.submit(run_test, s, d, args.qopt_run, args.timeout,
                          args.run_arg, args.specialize): tid
                for s, d, tid in tests}
        for n, fut in enumerate(concurrent.futures.as_completed(futs), 1):
            tid = futs[fut]
            try:
                results[tid] = fut.result()
            except Exception as e:  # noqa: BLE001 - never stop the runner
                results[tid] = ("fail", "runner error: %r" % e, 0.0)
            if sys.stderr.isatty():
                sys.stderr.write("\r[%d/%d] %s\x1b[K" % (n, len(tests), tid))
                sys.stderr.flush()
    if sys.stderr.isatty():
        sys.stderr.write("\r\x1b[K")

    if args.verbose:
        for tid in sorted(results):
            st, why, _ = results[tid]
            if st == "fail" or (st == "unsupported" and args.show_unsupported):
                print("%-11s %s: %s" % (st.upper(), tid, why))
        print()

    if args.results:
        with open(args.results, "w") as f:
            for tid in sorted(results):
                st, why, secs = results[tid]
                f.write("%s\t%s\t%.2f\t%s\n" % (tid, st, secs,
                                                why.replace("\n", " ")))

    if args.summary:
        cats = {}
        for tid, (st, why, _) in results.items():
            if st == "fail":
                cats.setdefault(reason_category(why), []).append(tid)
        print("most common failure reasons:")
        for cat, tids in sorted(cats.items(), key=lambda kv: -len(kv[1]))[:args.summary]:
            print("  %4d  %s  (e.g. %s)" % (len(tids), cat, sorted(tids)[0]))
        print()

    print("%-20s %6s %6s %6s %12s" % ("suite", "total", "pass", "fail",
                                       "unsupported"))
    tot = [0, 0, 0, 0]
    for suite in suites:
        c = [0, 0, 0, 0]
        for tid, (st, _, _) in results.items():
            if tid.startswith(suite + "/"):
                c[0] += 1
                c[{"pass": 1, "fail": 2, "unsupported": 3}[st]] += 1
        tot = [a + b for a, b in zip(tot, c)]
        print("%-20s %6d %6d %6d %12d" % (suite, *c))
    print("%-20s %6d %6d %6d %12d" % ("overall", *tot))
    print("(%.0fs, -j %d, timeout %gs)" % (time.time() - t0, args.jobs,
                                          args.timeout))

    listed = read_list(args.list)
    passing = {tid for tid, (st, _, _) in results.items() if st == "pass"}
    if args.specialize:  # the specialized list: where specialization binds
        passing = {tid for tid in passing
                   if results[tid][1].startswith("specialized")}
    rc = 0
    if args.check:
        selected = {tid for _, _, tid in tests}
        regressions = sorted(t for t in listed
                             if t in selected and t not in passing)
        missing = sorted(t for t in listed if t not in selected
                         and t.split("/")[0] in suites
                         and (not filt or filt.search(t)))
        new = sorted(passing - set(listed))
        for t in missing:
            print("warning: listed test not found: %s" % t)
        if new:
            print("%d test(s) pass but are not in %s (run --update):" %
                  (len(new), os.path.relpath(args.list)))
            for t in new:
                print("  " + t)
        crashes = sorted(t for t, (st, why, _) in results.items()
                         if why.startswith("crash"))
        for t in crashes:
            print("CRASH: %s: %s" % (t, results[t][1]))
        if crashes:
            rc = 1
        if regressions:
            print("REGRESSIONS: %d listed test(s) no longer pass:" %
                  len(regressions))
            for t in regressions:
                st, why, _ = results[t]
                print("  %s: %s %s" % (t, st, why))
            rc = 1
        else:
            print("check: all %d listed test(s) in the selection pass" %
                  sum(1 for t in listed if t in selected))
    if args.update:
        selected = {tid for _, _, tid in tests}
        keep = {t for t in listed if t not in selected}
        new_list = sorted(keep | passing)
        with open(args.list, "w") as f:
            for t in new_list:
                f.write(t + "\n")
        print("wrote %d test(s) to %s" % (len(new_list),
                                          os.path.relpath(args.list)))
    return rc


if __name__ == "__main__":
    sys.exit(main())
