"""Table for bench/kernels.sh: argv = peak.txt results.txt K N load."""
import statistics as st
import sys
from collections import defaultdict

peak = {}
for line in open(sys.argv[1]):
    kv = dict(x.split("=") for x in line.split())
    peak[kv["threads"]] = {k: float(v) for k, v in kv.items() if k != "threads"}
K, N = int(sys.argv[3]), int(sys.argv[4])
times = defaultdict(list)
best = defaultdict(list)
cpu = defaultdict(list)
order = []
for line in open(sys.argv[2]):
    p = line.split()
    if len(p) < 6:
        continue  # a failed run (no time)
    key = tuple(p[:4])
    if key not in times:
        order.append(key)
    times[key].append(float(p[4]))
    best[key].append(float(p[5]))
    if len(p) > 6:
        cpu[key].append(float(p[6]))

print("load while measuring:", sys.argv[5].strip())
for t, pk in peak.items():
    print(f"threads={t}: vpdpbusd peak {pk['vnni_gops']:.0f} GOP/s, "
          f"FMA peak {pk['fma_gflops']:.0f} GFLOP/s, DRAM read {pk['dram_gbs']:.1f} GB/s")
print()
print("| threads | work | config | ms median | ms best | CPU ms/run | GOP/s (best) | % of limit | vs ORT best: median | best run | CPU time |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
med = {k: st.median(v) for k, v in times.items()}
mn = {k: min(v) for k, v in best.items()}
cp = {k: st.median(v) for k, v in cpu.items()}
for key in order:
    t, kind, M, cfg = key
    ms = med[key]
    k_, n_, m_ = K, N, M
    if "/" in M:  # M/KxN: another weight shape
        m_, kn = M.split("/")
        k_, n_ = (int(x) for x in kn.split("x"))
    if kind == "llama" or M in ("fp32", "int8", "int4"):
        ops, limit, lim = None, None, ""
    else:
        ops = 2.0 * int(m_) * n_ * k_
        # The limit: threads x the 1-thread peak (a 2-thread trial rarely
        # gets both cores uncontended on a shared machine).
        one = peak.get("1", peak[t])
        # int8 and int4 (w4a8, MatMulNBits accuracy_level 4) compute in
        # int8: the vpdpbusd peak.
        limit = (one["fma_gflops"] if kind == "f32" else one["vnni_gops"]) * int(t)
    peers = [med[k] for k in med if k[:3] == key[:3] and k[3].startswith("ort:")]
    ratio = f"{min(peers) / ms:.2f}x" if peers and cfg.startswith("qopt:") else ""
    bpeers = [mn[k] for k in mn if k[:3] == key[:3] and k[3].startswith("ort:")]
    bratio = f"{min(bpeers) / mn[key]:.2f}x" if bpeers and cfg.startswith("qopt:") else ""
    cpeers = [cp[k] for k in cp if k[:3] == key[:3] and k[3].startswith("ort:")]
    cratio = (f"{min(cpeers) / cp[key]:.2f}x"
              if cpeers and key in cp and t == "1" and cfg.startswith("qopt:") else "")
    cms = f"{cp[key]:.3f}" if key in cp else ""
    # Throughput from the best run: the closest to an uncontended machine.
    b_ms = mn[key]
    gops = f"{ops / b_ms / 1e6:.0f}" if ops else ""
    pct = f"{ops / b_ms / 1e6 / limit * 100:.0f}%" if ops else ""
    if ops and m_ == "1":  # GEMV: weight bytes streamed per second
        bytes_ = k_ * n_ * {"int8": 1, "f32": 4}.get(kind, 0.5)
        pct += f" ({bytes_ / b_ms / 1e6:.1f} GB/s)"
    shape = f" K={k_} N={n_}" if (k_, n_) != (K, N) else ""
    work = f"{kind} M={m_}{shape}" if ops else f"llama-tiny {M} (1x128)"
    print(f"| {t} | {work} | {cfg} | {ms:.3f} | {mn[key]:.3f} | {cms} | {gops} | {pct} | {ratio} | {bratio} | {cratio} |")
