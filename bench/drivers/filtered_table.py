#!/usr/bin/python3
"""The filtered table from the rounds scripts/filtered-vs-faiss.sh wrote in
OUT: laiondb-R.txt (BenchmarkFilteredKNN's output) and faiss-R.json
(faiss_filtered.py's). Prints markdown: per share of allowed rows, the median
(min-max) over rounds of each system's p50 latency, its recall@10, and the
ratio of FAISS's faster path (Flat, or HNSW at its best p50 with recall@10
>= 0.99) to laiondb's planner, taken round by round: above 1, laiondb is
faster.

    /usr/bin/python3 filtered_table.py OUT
"""
import glob
import json
import os
import re
import statistics
import sys

TARGET = 0.99


def spread(xs, fmt="%.2f"):
    if not xs:
        return "–"
    m = statistics.median(xs)
    if len(xs) == 1:
        return fmt % m
    return (fmt + " (" + fmt + "–" + fmt + ")") % (m, min(xs), max(xs))


def laiondb_round(path):
    rows = {}
    for line in open(path):
        m = re.match(r"BenchmarkFilteredKNN/allowed=(\w+)/path=(\w+)(?:-\d+)?\s+\d+\s+(.*)", line)
        if not m:
            continue
        vals = dict((u, float(v)) for v, u in re.findall(r"([\d.e+-]+) (\S+)", m.group(3)))
        rows[(m.group(1), m.group(2))] = vals
    return rows


def faiss_best(sh):
    ok = [p for p in sh["hnsw"] if p["recall10"] >= TARGET]
    return min(ok, key=lambda p: p["p50_ms"]) if ok else None


def main(out):
    rounds = sorted(int(re.findall(r"(\d+)\.txt$", p)[0]) for p in glob.glob(os.path.join(out, "laiondb-*.txt")))
    lr = {r: laiondb_round(os.path.join(out, "laiondb-%d.txt" % r)) for r in rounds}
    fr = {}
    for r in rounds:
        p = os.path.join(out, "faiss-%d.json" % r)
        if os.path.exists(p):
            fr[r] = json.load(open(p))
    first = next(iter(fr.values()))
    print("%d rows with %d-d vectors, %d queries, k 10, one thread; %d rounds; FAISS %s. "
          "p50 in ms, median (min–max) over rounds." % (first["rows"], first["dim"], first["queries"], len(rounds), first["faiss"]))
    print()
    print("| rows allowed | laiondb planner (graph share per round; recall@10) | laiondb exact scan | laiondb graph forced (graph share; recall@10) | "
          "FAISS Flat + IDSelectorArray | FAISS HNSW + IDSelectorBitmap at recall@10 ≥ 0.99 (efSearch, recall@10) | "
          "FAISS's faster path ÷ laiondb planner |")
    print("|---|---|---|---|---|---|---|")
    for i, (name, _) in enumerate([("1pct", 0), ("10pct", 0), ("50pct", 0)]):
        pl = [lr[r][(name, "planner")]["p50-ms"] for r in rounds if (name, "planner") in lr[r]]
        gs = [lr[r][(name, "planner")]["graph-share"] for r in rounds if (name, "planner") in lr[r]]
        prc = [lr[r][(name, "planner")].get("recall@10", 0) for r in rounds if (name, "planner") in lr[r]]
        ex = [lr[r][(name, "exact")]["p50-ms"] for r in rounds if (name, "exact") in lr[r]]
        gr = [lr[r][(name, "graph")]["p50-ms"] for r in rounds if (name, "graph") in lr[r]]
        grc = [lr[r][(name, "graph")].get("recall@10", 0) for r in rounds if (name, "graph") in lr[r]]
        ggs = [lr[r][(name, "graph")]["graph-share"] for r in rounds if (name, "graph") in lr[r]]
        fl, fh, ratio, efs, frc = [], [], [], set(), []
        allowed = None
        for r in rounds:
            if r not in fr:
                continue
            sh = fr[r]["shares"][i]
            allowed = sh["allowed"]
            fl.append(sh["flat_p50_ms"])
            b = faiss_best(sh)
            best = sh["flat_p50_ms"]
            if b:
                fh.append(b["p50_ms"])
                efs.add(b["ef"])
                frc.append(b["recall10"])
                best = min(best, b["p50_ms"])
            if (name, "planner") in lr[r]:
                ratio.append(best / lr[r][(name, "planner")]["p50-ms"])
        hn = "not reached" if not fh else "%s (ef %s, %.4f)" % (spread(fh), "/".join(map(str, sorted(efs))), min(frc))
        print("| %s (%s rows) | %s (%s; recall %.4f) | %s | %s (%s; recall %.4f) | %s | %s | %s |" % (
            name.replace("pct", "%"), allowed, spread(pl), "/".join("%.2f" % g for g in gs), min(prc) if prc else 0,
            spread(ex), spread(gr), "/".join("%.2f" % g for g in ggs), min(grc) if grc else 0, spread(fl), hn,
            spread(ratio, "×%.2f")))


if __name__ == "__main__":
    main(sys.argv[1])
