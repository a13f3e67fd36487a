#!/usr/bin/python3
# One-off check behind BENCHMARKS.md, "The IVF index through the store, and the FAISS comparison corrected"; reads /tmp/ivf10m (bench/ivfscale).
# Which list did FAISS's 10M build put each row in, against the row's nearest centre?
import numpy as np, faiss, json, time
t0 = time.time()
idx = faiss.read_index("/tmp/ivf10m/faiss.index", faiss.IO_FLAG_MMAP)
top = faiss.downcast_index(idx)
ivf = faiss.downcast_index(faiss.extract_index_ivf(top.base_index))
q = faiss.downcast_index(ivf.quantizer)
L = ivf.nlist
cent = q.storage.reconstruct_n(0, L) if hasattr(q, "storage") else q.reconstruct_n(0, L)
inv = ivf.invlists
where = np.full(10000000, -1, dtype=np.int32)
for j in range(L):
    n = inv.list_size(j)
    if n:
        ids = faiss.rev_swig_ptr(inv.get_ids(j), n).copy()
        where[ids] = j
xb = np.load("/tmp/ivf10m/base.f16.npy", mmap_mode="r")
rs = np.random.RandomState(5)
pick = np.sort(rs.choice(10000000, 20000, replace=False))
x = np.asarray(xb[pick], dtype=np.float32)
s = x @ cent.T
best = np.argmax(s, axis=1)
rank = (s > s[np.arange(len(pick)), where[pick]][:, None]).sum(axis=1)
print(json.dumps({"rows": len(pick), "in_nearest_list": float(np.mean(best == where[pick])),
  "rank_p50": float(np.percentile(rank, 50)), "rank_p99": float(np.percentile(rank, 99)), "rank_max": int(rank.max()),
  "beyond_1024": float(np.mean(rank >= 1024)), "beyond_128": float(np.mean(rank >= 128)), "sec": time.time() - t0}))
