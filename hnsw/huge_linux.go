//go:build linux

package hnsw

import (
	"os"
	"strings"
	"sync"
	"syscall"
	"unsafe"
)

const hugePage = 2 << 20

// thpOn reports whether the kernel may back memory advised MADV_HUGEPAGE
// with transparent huge pages (mode "always" or "madvise").
var thpOn = sync.OnceValue(func() bool {
	b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	return err == nil && !strings.Contains(string(b), "[never]")
})

// hugeAlloc returns n bytes of zeroed anonymous memory, aligned to 2 MiB
// and advised MADV_HUGEPAGE, and the mapping to release with hugeFree; or
// nil, nil when transparent huge pages are off or the kernel refuses.
func hugeAlloc(n int) (b, mapping []byte) {
	if n <= 0 || !thpOn() {
		return nil, nil
	}
	size := (n + hugePage - 1) &^ (hugePage - 1)
	m, err := syscall.Mmap(-1, 0, size+hugePage, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return nil, nil
	}
	off := int(-uintptr(unsafe.Pointer(&m[0])) & (hugePage - 1))
	b = m[off : off+size : off+size]
	if err := syscall.Madvise(b, syscall.MADV_HUGEPAGE); err != nil {
		syscall.Munmap(m)
		return nil, nil
	}
	return b[:n:n], m
}

// hugeFree releases a mapping of hugeAlloc.
func hugeFree(mapping []byte) error {
	if mapping == nil {
		return nil
	}
	return syscall.Munmap(mapping)
}
