#!/usr/bin/python3
"""laiondb-bench driver for FAISS and hnswlib (Debian python3-faiss, python3-hnswlib).

Run by the Go harness (bench/external.go) as

    /usr/bin/python3 pydriver.py CONFIG.json          # build, save, sweep
    /usr/bin/python3 pydriver.py --open KIND INDEX QUERY.npy DIM KNOB   # fresh-process open probe

CONFIG.json names the base and query .npy files (float32, n x d, unit norm),
the index kind and parameters, the knob sweep and an output folder. Result ids
are written as .npy (int64, -1 for none) and the harness computes recall from
them, so every system is scored by the same code. The result is one JSON
object on the last line of stdout; progress goes to stderr.

Timing: single-thread QPS loops over the queries one at a time with
faiss.omp_set_num_threads(1) (hnswlib: num_threads=1); latencies are
time.perf_counter around each call, so they include the Python call overhead
(a few microseconds). Batched QPS hands all queries over in one call on
batch_threads threads. RAM per vector is the process RSS delta across the
first (1-thread) build, read from /proc/self/statm.
"""
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def set_threads(n):
    try:
        import faiss
        faiss.omp_set_num_threads(n)
    except ImportError:
        pass


# ---------------------------------------------------------------- builders

def build(cfg, xb, threads):
    kind, d = cfg["kind"], xb.shape[1]
    M, efc = cfg.get("M", 16), cfg.get("efC", 200)
    if kind == "hnswlib":
        import hnswlib
        idx = hnswlib.Index(space="ip", dim=d)
        idx.init_index(max_elements=xb.shape[0], M=M, ef_construction=efc, random_seed=100)
        idx.set_num_threads(threads)
        idx.add_items(xb, np.arange(xb.shape[0]), num_threads=threads)
        return idx
    import faiss
    set_threads(threads)
    if kind == "flat":
        idx = faiss.IndexFlatIP(d)
    elif kind == "hnsw":
        idx = faiss.IndexHNSWFlat(d, M, faiss.METRIC_INNER_PRODUCT)
        idx.hnsw.efConstruction = efc
    elif kind in ("ivf", "ivfpq", "ivfpq-refine"):
        idx = faiss.index_factory(d, cfg["factory"], faiss.METRIC_INNER_PRODUCT)
        if kind != "ivf":
            # Debian's generic FAISS trains k-means slowly here (~0.1 s per
            # iteration of 8-d, 256-centroid clustering on 2 noisy cores), so
            # the 64 PQ codebooks are trained with 10 iterations on at most
            # 64 points per centroid (16384 vectors).
            ivf = ivf_of(idx)
            ivf.pq.cp.niter = 10
            ivf.pq.cp.max_points_per_centroid = 64
        ntrain = min(xb.shape[0], cfg.get("train", 65536))
        rs = np.random.RandomState(1234)
        sample = xb[np.sort(rs.choice(xb.shape[0], ntrain, replace=False))]
        idx.train(sample)
        # An HNSW coarse quantizer assigns the added rows to lists by an
        # approximate search: at FAISS's default efSearch (16) it put 9.9%
        # of 10M rows outside their nearest of 8,192 lists, which capped
        # the index's recall; at 128, 0.1% (BENCHMARKS.md, "The FAISS
        # driver's coarse assignment").
        set_quantizer_ef(idx, 128)
    else:
        raise SystemExit("unknown kind " + kind)
    idx.add(xb)
    return idx


def set_quantizer_ef(idx, ef):
    """Sets efSearch of an HNSW coarse quantizer; other quantizers search exactly."""
    import faiss
    try:
        faiss.downcast_index(ivf_of(idx).quantizer).hnsw.efSearch = ef
    except AttributeError:
        pass


def set_knob(cfg, idx, v):
    kind = cfg["kind"]
    if kind == "hnswlib":
        idx.set_ef(v)
    elif kind == "hnsw":
        idx.hnsw.efSearch = v
    elif kind in ("ivf", "ivfpq", "ivfpq-refine"):
        import faiss
        ivf = ivf_of(idx)
        ivf.nprobe = v
        if kind != "ivf":
            # autofaiss also sets efSearch of the HNSW coarse quantizer
            try:
                q = faiss.downcast_index(ivf.quantizer)
                q.hnsw.efSearch = max(2 * v, 64)
            except Exception:
                pass
        if kind == "ivfpq-refine":
            # The exact re-ranking of laiondb-ivf: 16 rows per list probed,
            # at least 100 and at most 16,384 (for k = 10).
            faiss.downcast_index(idx).k_factor = min(max(1.6 * v, 10), 1638.4)


def ivf_of(idx):
    """The IndexIVF inside idx, also under an IndexRefine (which FAISS
    1.7.3's extract_index_ivf does not look through)."""
    import faiss
    top = faiss.downcast_index(idx)
    if isinstance(top, faiss.IndexRefine):
        idx = top.base_index
    return faiss.downcast_index(faiss.extract_index_ivf(idx))


def search(cfg, idx, q, k, threads):
    if cfg["kind"] == "hnswlib":
        labels, _ = idx.knn_query(q, k=k, num_threads=threads)
        return labels.astype(np.int64)
    _, I = idx.search(q, k)
    return I


def save(cfg, idx, path):
    if cfg["kind"] == "hnswlib":
        idx.save_index(path)
    else:
        import faiss
        faiss.write_index(idx, path)


def load(kind, path, d):
    if kind == "hnswlib":
        import hnswlib
        idx = hnswlib.Index(space="ip", dim=d)
        idx.load_index(path)
        return idx
    import faiss
    return faiss.read_index(path)


# ---------------------------------------------------------------- probe

def open_probe(kind, path, qpath, d, knob):
    if kind != "hnswlib":
        import faiss
        faiss.omp_set_num_threads(1)
    else:
        import hnswlib  # noqa: F401  (import time is not part of the measurement)
    q = np.load(qpath)[:1].astype(np.float32)
    t0 = time.perf_counter()
    idx = load(kind, path, d)
    cfg = {"kind": kind}
    if knob:
        set_knob(cfg, idx, knob)
    search(cfg, idx, q, 10, 1)
    print("%.6f" % (time.perf_counter() - t0))


# ---------------------------------------------------------------- main

def main(cfgpath):
    cfg = json.load(open(cfgpath))
    out = cfg["out"]
    os.makedirs(out, exist_ok=True)
    xb = np.ascontiguousarray(np.load(cfg["base"]).astype(np.float32))
    n, d = xb.shape
    res = {"system": cfg["system"], "params": cfg.get("params", ""), "n": n,
           "points": [],
           "bytes_method": "process RSS delta across the 1-thread build (/proc/self/statm)"}
    note = []
    idx = None
    for threads in cfg.get("build_threads", [1, 2]):
        idx = None
        r0 = rss()
        log("%s %s: build with %d thread(s)" % (cfg["system"], cfg.get("params", ""), threads))
        t0 = time.perf_counter()
        idx = build(cfg, xb, threads)
        sec = time.perf_counter() - t0
        res["build_sec_%d" % threads] = sec
        if "bytes_per_vec" not in res:
            res["bytes_per_vec"] = (rss() - r0) / n
        log("  %.1f s" % sec)
    path = os.path.join(out, "%s.index" % cfg["tag"])
    save(cfg, idx, path)
    res["file_bytes"] = os.path.getsize(path)
    sweep = cfg.get("sweep") or [0]
    knob = cfg.get("knob", "")
    # fresh-process open + first query
    try:
        p = subprocess.run([sys.executable, __file__, "--open", cfg["kind"], path,
                            cfg["queries"][0]["path"], str(d), str(cfg.get("default_knob", 0))],
                           capture_output=True, text=True, check=True)
        res["open_query_sec"] = float(p.stdout.split()[-1])
    except subprocess.CalledProcessError as e:
        note.append("open probe failed: " + e.stderr.strip().splitlines()[-1])
    bt = cfg.get("batch_threads", 2)
    for qs in cfg["queries"]:
        q = np.ascontiguousarray(np.load(qs["path"]).astype(np.float32))
        if cfg.get("exact"):
            q = q[: cfg.get("exact_queries", 200)]
        nq = q.shape[0]
        for v in sweep:
            if knob:
                set_knob(cfg, idx, v)
            set_threads(1)
            ids10 = np.full((nq, 10), -1, dtype=np.int64)
            lat = np.zeros(nq)
            t0 = time.perf_counter()
            for i in range(nq):
                s = time.perf_counter()
                ids10[i] = search(cfg, idx, q[i:i + 1], 10, 1)[0]
                lat[i] = time.perf_counter() - s
            total = time.perf_counter() - t0
            set_threads(bt)
            ids100 = search(cfg, idx, q, 100, bt)
            t0 = time.perf_counter()
            search(cfg, idx, q, 10, bt)
            bsec = time.perf_counter() - t0
            f10 = os.path.join(out, "%s-%s-%s%d-k10.npy" % (cfg["tag"], qs["name"], knob, v))
            f100 = os.path.join(out, "%s-%s-%s%d-k100.npy" % (cfg["tag"], qs["name"], knob, v))
            np.save(f10, ids10)
            np.save(f100, ids100.astype(np.int64))
            res["points"].append({
                "queries": qs["name"], "knob": knob, "value": v,
                "qps1": nq / total, "p50_ns": float(np.percentile(lat, 50) * 1e9),
                "p99_ns": float(np.percentile(lat, 99) * 1e9),
                "batch_qps": nq / bsec, "batch_threads": bt, "ids10": f10, "ids100": f100})
            log("  %s %s=%d: %.0f QPS" % (qs["name"], knob, v, nq / total))
    res["note"] = "; ".join(note)
    res["max_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps(res))


if __name__ == "__main__":
    if sys.argv[1] == "--open":
        open_probe(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6]))
    else:
        main(sys.argv[1])
