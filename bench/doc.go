// Package bench measures laiondb's vector search and text scans (recall,
// queries per second, build time, memory) side by side with FAISS, hnswlib
// and coder/hnsw on the same data in the same run.
package bench
