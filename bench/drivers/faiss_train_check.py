#!/usr/bin/python3
# One-off check behind BENCHMARKS.md, "The IVF index through the store, and the FAISS comparison corrected"; reads /tmp/ivf10m (bench/ivfscale).
# Does FAISS's PQ training (driver: niter 10, 64 pts/centroid) limit its recall?
# 1M rows of the 10M base, IVF1024_HNSW32,PQ32x8np,Refine(SQfp16), trained on 262,144 rows;
# (a) the driver's PQ training, (b) FAISS defaults. Recall@10 at nprobe 256/1024.
import sys, time, json
import numpy as np, faiss
faiss.omp_set_num_threads(2)
xb = np.load("/tmp/ivf10m/base.f16.npy", mmap_mode="r")
N = 1000000
x = np.ascontiguousarray(xb[:N], dtype=np.float32)
x /= np.linalg.norm(x, axis=1, keepdims=True)
out = {}
for kind in ["image", "text"]:
    q = np.load("/tmp/ivf10m/queries-%s.npy" % kind).astype(np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    gt = []
    for b in range(0, len(q), 50):
        s = q[b:b + 50] @ x.T
        gt.append(np.argpartition(-s, 10, axis=1)[:, :10])
        del s
    out[kind] = (q, np.concatenate(gt))
    np.save("/tmp/ft-gt-%s.npy" % kind, out[kind][1].astype(np.int64))
rs = np.random.RandomState(1234)
pick = np.sort(rs.choice(N, 262144, replace=False))
for mode in sys.argv[1:]:
    idx = faiss.index_factory(512, "IVF1024_HNSW32,PQ32x8np,Refine(SQfp16)", faiss.METRIC_INNER_PRODUCT)
    ivf = faiss.downcast_index(faiss.extract_index_ivf(faiss.downcast_index(idx).base_index))
    if mode == "driver":
        ivf.pq.cp.niter = 10
        ivf.pq.cp.max_points_per_centroid = 64
    t0 = time.time()
    idx.train(x[pick])
    idx.add(x)
    bt = time.time() - t0
    for np_ in [16, 64, 256]:
        ivf.nprobe = np_
        faiss.downcast_index(ivf.quantizer).hnsw.efSearch = max(2 * np_, 64)
        faiss.downcast_index(idx).k_factor = min(max(16 * np_, 100), 4096) / 10.0
        for kind in ["image", "text"]:
            q, gt = out[kind]
            _, I = idx.search(q, 10)
            r = np.mean([len(set(I[i]) & set(gt[i])) / 10 for i in range(len(q))])
            print(json.dumps({"mode": mode, "train_build_s": round(bt), "nprobe": np_, "kind": kind, "recall": round(float(r), 4)}), flush=True)
