#!/usr/bin/env python3
"""Per-op profile of a compiled model: perf samples grouped by the
linalg-level op they came from.

  qopt-compile m.onnx --profile-lines=m.lines.mlir -o m.so
  perf record -o perf.data qopt-run m.so --input=... --bench=300
  perf report -i perf.data --no-children --sort srcline > report.txt
  scripts/profile-ops.py m.lines.mlir report.txt [--top 40]

Every sample line 'N.NN%  m.lines.mlir:LINE' is charged to the outermost
op of the function body that encloses LINE; the output lists these ops by
share, with their first line (kind, ukernel name, shapes)."""
import re
import sys


def top_level_ops(lines):
    """(start, end, text) of each op directly in a func body, and of each
    op directly in the body of an scf.forall there (qopt-parallelize-heads'
    loop over the heads: its ops are listed as 'in forall: ...')."""
    ops, cur, inner, indent = [], None, None, None
    for i, l in enumerate(lines, 1):
        s = l.rstrip("\n")
        if re.match(r"^\s*func\.func", s) or re.match(r"^\s*llvm\.func", s):
            indent = len(s) - len(s.lstrip()) + 2
            continue
        if indent is None or not s.strip():
            continue
        ind = len(s) - len(s.lstrip())
        body = s.lstrip().startswith(("}", "^"))
        if ind == indent and not body:
            cur = [i, i, s.strip()]
            ops.append(cur)
            inner = None
        elif cur is not None and ind >= indent:
            cur[1] = i
            if "scf.forall" in cur[2] and "in_parallel" not in s:
                if ind == indent + 2 and not body:
                    inner = [i, i, "in forall: " + s.strip()]
                    ops.append(inner)
                elif inner is not None and ind > indent + 2:
                    inner[1] = i
    # Innermost first: a line inside a forall's op is charged to that op.
    return sorted(ops, key=lambda o: o[1] - o[0])


def describe(text):
    pre = "in forall: " if text.startswith("in forall: ") else ""
    m = re.search(r"= ([a-z_]+\.[a-z_0-9.]+)", text) or re.search(r"^([a-z_]+\.[a-z_0-9.]+)", text)
    kind = pre + (m.group(1) if m else text[:40])
    uk = re.search(r'qopt\.ukernel = "([^"]+)"', text)
    types = re.findall(r"tensor<([0-9x]+)x([a-z0-9]+)>|memref<([0-9x]+)x([a-z0-9]+)", text)
    shapes = ["x".join(filter(None, t)) for t in types][-1:] if types else []
    return " ".join([kind] + ([uk.group(1)] if uk else []) + shapes)


def main():
    args = sys.argv[1:]
    top = 40
    if "--top" in args:
        k = args.index("--top")
        top = int(args[k + 1])
        del args[k:k + 2]
    if len(args) != 2:
        sys.exit(__doc__)
    lines = open(args[0]).readlines()
    ops = top_level_ops(lines)
    name = args[0].split("/")[-1]
    share, other = {}, 0.0
    for l in open(args[1]):
        m = re.match(r"\s*([0-9.]+)%\s+(\S+):(\d+)", l)
        if not m:
            continue
        pct, f, ln = float(m.group(1)), m.group(2), int(m.group(3))
        op = next((o for o in ops if o[0] <= ln <= o[1]), None) if f == name else None
        if op is None:
            other += pct
            continue
        share[op[0]] = share.get(op[0], 0.0) + pct
    by_kind = {}
    for o in ops:
        if o[0] in share:
            k = describe(o[2])
            by_kind[k] = by_kind.get(k, 0.0) + share[o[0]]
    print("share  ops of this kind+shape (summed over layers)")
    for k, v in sorted(by_kind.items(), key=lambda x: -x[1])[:top]:
        print(f"{v:6.2f}%  {k}")
    print(f"{other:6.2f}%  outside the model's ops (libc, libomp, unknown)")


if __name__ == "__main__":
    main()
