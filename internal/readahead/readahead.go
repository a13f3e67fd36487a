// Package readahead asks the kernel to start reading parts of a
// memory-mapped file before they are touched.
//
// A pass over rows scattered through a file that is not in the page cache
// takes one page fault at a time: on a disk with a millisecond of latency
// per read, a thousand rows take a second. Asking for all of them first
// (madvise MADV_WILLNEED, which queues the reads and returns) lets the
// disk serve them together, whatever the number of threads. On memory that
// is not a file mapping, and on systems without madvise, it does nothing.
package readahead

import "unsafe"

// Bytes asks for the pages holding b.
func Bytes(b []byte) {
	if len(b) > 0 {
		span(uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)))
	}
}

// Span asks for the pages holding n bytes from p.
func Span(p unsafe.Pointer, n uintptr) {
	if n > 0 {
		span(uintptr(p), n)
	}
}

// Resident reports whether the pages holding n bytes from p (at most the
// first 16) are in memory: in the page cache, for a file mapping. Where it
// cannot tell, it says they are.
func Resident(p unsafe.Pointer, n uintptr) bool {
	return n == 0 || resident(uintptr(p), n)
}
