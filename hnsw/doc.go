// Package hnsw is laiondb's on-disk HNSW vector index (Malkov & Yashunin):
// a layered proximity graph over the store's vectors, searched with an
// optional allow-list of row ids. It knows nothing of metadata.
package hnsw
