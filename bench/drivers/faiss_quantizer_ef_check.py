#!/usr/bin/python3
# One-off check behind BENCHMARKS.md, "The IVF index through the store, and the FAISS comparison corrected"; reads /tmp/ivf10m (bench/ivfscale).
import numpy as np, faiss, json, time
idx = faiss.read_index("/tmp/ivf10m/faiss.index", faiss.IO_FLAG_MMAP)
ivf = faiss.downcast_index(faiss.extract_index_ivf(faiss.downcast_index(idx).base_index))
q = faiss.downcast_index(ivf.quantizer)
cent = q.storage.reconstruct_n(0, ivf.nlist)
xb = np.load("/tmp/ivf10m/base.f16.npy", mmap_mode="r")
rs = np.random.RandomState(5)
pick = np.sort(rs.choice(10000000, 20000, replace=False))
x = np.asarray(xb[pick], dtype=np.float32)
best = np.argmax(x @ cent.T, axis=1)
faiss.omp_set_num_threads(2)
for ef in [16, 64, 128, 256, 512]:
    q.hnsw.efSearch = ef
    t0 = time.time()
    _, I = q.search(x, 1)
    print(json.dumps({"efSearch": ef, "nearest": float(np.mean(I[:, 0] == best)), "us_per_row": 1e6 * (time.time() - t0) / len(x)}), flush=True)
