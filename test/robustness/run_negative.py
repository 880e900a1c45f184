#!/usr/bin/env python3
"""Runs the negative corpus through qopt-compile / qopt-run and checks that
every bad input gets one clear error and nothing else.

    run_negative.py --build BUILD_DIR [--work DIR] [--filter SUBSTR] [-v]

A case is clean when the tool
  - exits with a non-zero status (not a signal, not the timeout),
  - prints at least one and at most one `error:` line on stderr, and no
    crash text (stack dump, "PLEASE submit a bug report", assertion, sanitizer
    report, uncaught exception, "LLVM ERROR"),
  - names what the case's `mention` list says (file / node / tensor),
  - leaves no output behind: no OUT.so/.weights/.h (qopt-compile) and no file
    in the output directory (qopt-run); for every other case a pre-existing
    OUT.so (qopt-compile) is created first and must be left byte-identical.

Cases: make_negative_corpus.py's cases.json, plus every file in
test/fuzz/crashers/ (fuzzer regressions, compiled as models). Prints a table
and `N cases, M clean`; exits 1 unless all are clean.
"""
import argparse
import concurrent.futures
import json
import os
import re
import shutil
import signal
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
TIMEOUT = 30
PRE = b"pre-existing output, must survive a failed compile\n"
CRASH_RE = re.compile(r"Stack dump|PLEASE submit a bug report|Assertion .* failed|"
                      r"AddressSanitizer|UndefinedBehaviorSanitizer|terminate called|"
                      r"LLVM ERROR|Segmentation fault|Aborted|core dumped|"
                      r"runtime error:|libc\+\+abi")
ERROR_RE = re.compile(r"\berror:")


def expand(s, ctx):
    for k, v in ctx.items():
        s = s.replace("{" + k + "}", v)
    return s


def run_case(case, bins, ctx, index):
    name = case["name"]
    out_stem = os.path.join(ctx["work"], "out", name)
    c = dict(ctx, out=out_stem)
    args = [expand(a, c) for a in case["args"]]
    tool = case["tool"]
    outputs = []
    pre_existing = None
    if tool == "qopt-compile":
        outputs = [out_stem + ".so", out_stem + ".weights", out_stem + ".h"]
        if index % 2 == 1:
            pre_existing = out_stem + ".so"
            with open(pre_existing, "wb") as f:
                f.write(PRE)
    outdir = out_stem + ".outdir"
    problems = []
    try:
        p = subprocess.run([bins[tool]] + args, stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=TIMEOUT)
        rc, err = p.returncode, p.stderr.decode("utf-8", "replace")
    except subprocess.TimeoutExpired as e:
        rc, err = None, (e.stderr or b"").decode("utf-8", "replace")
        problems.append("timeout (%d s)" % TIMEOUT)
    if rc is not None:
        if rc == 0:
            problems.append("exit 0")
        elif rc < 0 or rc >= 128:
            sig = -rc if rc < 0 else rc - 128
            try:
                problems.append("signal " + signal.Signals(sig).name)
            except ValueError:
                problems.append("exit %d" % rc)
    if CRASH_RE.search(err):
        problems.append("crash text")
    nerr = len([l for l in err.splitlines() if ERROR_RE.search(l)])
    if nerr == 0:
        problems.append("no error: line")
    elif nerr > 1:
        problems.append("%d error: lines" % nerr)
    for m in case.get("mention", []):
        m = expand(m, c)
        if m not in err:
            problems.append("does not mention %r" % m)
    for o in outputs:
        if o == pre_existing:
            with open(o, "rb") as f:
                if f.read() != PRE:
                    problems.append("overwrote " + os.path.basename(o))
        elif os.path.exists(o):
            problems.append("left " + os.path.basename(o))
    if os.path.isdir(outdir) and os.listdir(outdir):
        problems.append("left files in the output dir")
    first = next((l for l in err.splitlines() if ERROR_RE.search(l)),
                 err.strip().splitlines()[0] if err.strip() else "")
    return name, tool, rc, problems, first, err


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True, help="build dir (has bin/qopt-compile)")
    ap.add_argument("--work", help="scratch dir (default BUILD/test/robustness-work)")
    ap.add_argument("--filter", default="", help="only cases whose name contains this")
    ap.add_argument("--crashers", default=os.path.join(SRC, "test", "fuzz", "crashers"))
    ap.add_argument("-j", type=int, default=2)
    ap.add_argument("-v", action="store_true", help="print stderr of failing cases")
    a = ap.parse_args()

    bins = {t: os.path.join(a.build, "bin", t) for t in ("qopt-compile", "qopt-run")}
    for b in bins.values():
        if not os.path.exists(b):
            sys.exit("missing " + b)
    work = os.path.abspath(a.work or os.path.join(a.build, "test", "robustness-work"))
    shutil.rmtree(work, ignore_errors=True)
    corpus = os.path.join(work, "corpus")
    os.makedirs(os.path.join(work, "out"))
    subprocess.run([sys.executable, os.path.join(HERE, "make_negative_corpus.py"), corpus],
                   check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(corpus, "cases.json")) as f:
        cases = json.load(f)
    if os.path.isdir(a.crashers):
        for fn in sorted(os.listdir(a.crashers)):
            if fn.startswith(".") or fn.endswith(".md"):
                continue
            cases.append({"name": "crasher/" + fn, "tool": "qopt-compile",
                          "args": [os.path.join(a.crashers, fn), "-o", "{out}.so"],
                          "mention": [fn]})
    cases = [c for c in cases if a.filter in c["name"]]

    # A valid compiled model for the qopt-run cases.
    onnx = os.path.join(corpus, "good_add.onnx")
    good = os.path.join(work, "good_add.so")
    p = subprocess.run([bins["qopt-compile"], onnx, "-o", good], capture_output=True)
    if p.returncode != 0:
        sys.exit("cannot compile the valid model: " + p.stderr.decode())
    ctx = {"dir": corpus, "model": good, "onnx": onnx, "work": work}
    os.makedirs(os.path.join(work, "out", "crasher"), exist_ok=True)

    with concurrent.futures.ThreadPoolExecutor(max(1, a.j)) as ex:
        results = list(ex.map(lambda ic: run_case(ic[1], bins, ctx, ic[0]), enumerate(cases)))

    w = max(len(r[0]) for r in results)
    clean = 0
    for name, tool, rc, problems, first, err in results:
        status = "ok" if not problems else "FAIL: " + "; ".join(problems)
        clean += not problems
        msg = first.replace(corpus + "/", "").strip()
        print("%-*s %-12s rc=%-4s %s | %s" % (w, name, tool, rc, status, msg[:160]))
        if problems and a.v:
            print("    " + err.replace("\n", "\n    ")[:3000])
    print("%d cases, %d clean" % (len(results), clean))
    return 0 if clean == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
