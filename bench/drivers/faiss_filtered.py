#!/usr/bin/python3
"""FAISS's filtered k-NN on the vectors of a laiondb demo store, for the
filtered table of BENCHMARKS.md (issue 24). Run by scripts/filtered-vs-faiss.sh
alternately with BenchmarkFilteredKNN (package db), which asks laiondb the same
queries on the store itself:

    /usr/bin/python3 faiss_filtered.py --emb DIR --widths CSV --index FILE --out JSON

DIR is the img_emb folder of the embedding folder the store was ingested from
(img_emb_0.npy, img_emb_1.npy, ...: store rows 0 to n-1, in that order). CSV
holds the store's row and width columns (laiondb export --format csv
--columns row,width). The queries are BenchmarkFilteredKNN's: the image
embedding of row (i*7919) mod ROWS for i < QUERIES, k 10, over the rows with
width < W, W = 208, 280 and 600 (1%, 10% and 50% of the demo's rows). The
vectors are the stored float16 values widened to float32.

Systems, one thread, one query at a time (time.perf_counter around each call,
so a few microseconds of Python are included):
- flat: IndexFlatIP searched with an IDSelectorArray of the allowed rows; its
  answers are exact and are the ground truth of the recall;
- hnsw: IndexHNSWFlat, M 16, efConstruction 200, inner product, searched with
  an IDSelectorBitmap at each efSearch of --efs (set on the index too:
  FAISS 1.7.3 ignores SearchParametersHNSW.efSearch). The index is built on
  2 threads once and saved to FILE; later runs read it.

The result is one JSON object on stdout: per share, the flat p50/p99 and, per
efSearch, hnsw's p50/p99 and recall@10. Progress goes to stderr.
"""
import argparse
import glob
import json
import os
import re
import sys
import time

import numpy as np
import pandas as pd
import faiss

SHARES = [("1pct", 208), ("10pct", 280), ("50pct", 600)]


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def load_vectors(folder, rows):
    files = sorted(glob.glob(os.path.join(folder, "img_emb_*.npy")),
                   key=lambda p: int(re.findall(r"(\d+)\.npy$", p)[0]))
    parts, n = [], 0
    for f in files:
        a = np.load(f, mmap_mode="r")
        parts.append(np.asarray(a[: max(0, rows - n)], dtype=np.float32))
        n += parts[-1].shape[0]
        if n >= rows:
            break
    xb = np.ascontiguousarray(np.concatenate(parts))
    if xb.shape[0] != rows:
        raise SystemExit("%s: %d embedded rows, %d asked" % (folder, xb.shape[0], rows))
    return xb


def timed(fn, nq):
    lat = np.zeros(nq)
    out = np.full((nq, 10), -1, dtype=np.int64)
    for i in range(nq):
        t = time.perf_counter()
        out[i] = fn(i)
        lat[i] = time.perf_counter() - t
    return out, float(np.percentile(lat, 50) * 1e3), float(np.percentile(lat, 99) * 1e3)


def recall(got, want):
    found = sum(len(set(g[g >= 0]) & set(w[w >= 0])) for g, w in zip(got, want))
    return found / max(1, int((want >= 0).sum()))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--emb", required=True)
    ap.add_argument("--widths", required=True)
    ap.add_argument("--index", required=True)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--efs", default="16,32,64,128,256,512,1024,2048,4096")
    ap.add_argument("--out", default="-")
    a = ap.parse_args()

    xb = load_vectors(a.emb, a.rows)
    n, d = xb.shape
    w = pd.read_csv(a.widths, usecols=["row", "width"])
    w = w[w["row"] < n]
    width = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    width[w["row"].to_numpy()] = w["width"].to_numpy()
    res = {"rows": n, "dim": d, "queries": a.queries, "faiss": faiss.__version__,
           "load1": os.getloadavg()[0]}

    faiss.omp_set_num_threads(2)
    if os.path.exists(a.index):
        hnsw = faiss.read_index(a.index)
    else:
        log("building HNSW M 16, efConstruction 200 on %d x %d, 2 threads" % (n, d))
        t = time.perf_counter()
        hnsw = faiss.IndexHNSWFlat(d, 16, faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction = 200
        hnsw.add(xb)
        res["hnsw_build_sec"] = time.perf_counter() - t
        faiss.write_index(hnsw, a.index)
    flat = faiss.IndexFlatIP(d)
    flat.add(xb)
    faiss.omp_set_num_threads(1)

    qrows = [(i * 7919) % n for i in range(a.queries)]
    q = np.ascontiguousarray(xb[qrows])
    res["shares"] = []
    for name, wmax in SHARES:
        mask = width < wmax
        ids = np.nonzero(mask)[0].astype(np.int64)
        bits = np.packbits(mask, bitorder="little")
        sa = faiss.IDSelectorArray(len(ids), faiss.swig_ptr(ids))
        pf = faiss.SearchParameters()
        pf.sel = sa
        truth, p50, p99 = timed(lambda i: flat.search(q[i:i + 1], 10, params=pf)[1][0], a.queries)
        sh = {"share": name, "allowed": int(mask.sum()), "flat_p50_ms": p50, "flat_p99_ms": p99, "hnsw": []}
        log("%s: %d allowed; flat p50 %.2f ms" % (name, mask.sum(), p50))
        sb = faiss.IDSelectorBitmap(n, faiss.swig_ptr(bits))
        for ef in [int(x) for x in a.efs.split(",")]:
            ph = faiss.SearchParametersHNSW()
            ph.sel = sb
            ph.efSearch = ef
            hnsw.hnsw.efSearch = ef  # 1.7.3 reads the index's, not the parameters'
            got, p50, p99 = timed(lambda i: hnsw.search(q[i:i + 1], 10, params=ph)[1][0], a.queries)
            r = recall(got, truth)
            sh["hnsw"].append({"ef": ef, "p50_ms": p50, "p99_ms": p99, "recall10": r})
            log("  hnsw ef %d: p50 %.2f ms, recall@10 %.4f" % (ef, p50, r))
            if r >= 0.99:  # a larger ef only costs more
                break
        res["shares"].append(sh)
    out = json.dumps(res)
    if a.out == "-":
        print(out)
    else:
        with open(a.out, "w") as f:
            f.write(out + "\n")


if __name__ == "__main__":
    main()
