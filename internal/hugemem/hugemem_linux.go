package hugemem

import (
	"os"
	"strings"
	"sync"
	"syscall"
	"unsafe"
)

// On reports whether transparent huge pages may back memory advised
// MADV_HUGEPAGE (mode "always" or "madvise").
var On = sync.OnceValue(func() bool {
	b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	return err == nil && !strings.Contains(string(b), "[never]")
})

func alloc(n int) (b, mapping []byte) {
	if n <= 0 || !On() {
		return nil, nil
	}
	size := (n + Page - 1) &^ (Page - 1)
	m, err := syscall.Mmap(-1, 0, size+Page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return nil, nil
	}
	off := int(-uintptr(unsafe.Pointer(&m[0])) & (Page - 1))
	b = m[off : off+size : off+size]
	if err := syscall.Madvise(b, syscall.MADV_HUGEPAGE); err != nil {
		syscall.Munmap(m)
		return nil, nil
	}
	return b[:n:n], m
}

func free(mapping []byte) error { return syscall.Munmap(mapping) }
