//go:build !linux

package hnsw

// hugeAlloc is not available: the index keeps its sections in the file
// mapping.
func hugeAlloc(n int) (b, mapping []byte) { return nil, nil }

func hugeFree(mapping []byte) error { return nil }
