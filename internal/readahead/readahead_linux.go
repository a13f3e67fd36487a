package readahead

import (
	"os"
	"syscall"
	"unsafe"
)

var pageMask = uintptr(os.Getpagesize() - 1)

// span calls madvise on whole pages; the address stays an integer, so no
// pointer outside the caller's memory is ever formed.
func span(p, n uintptr) {
	lo := p &^ pageMask
	syscall.Syscall(syscall.SYS_MADVISE, lo, p+n-lo, syscall.MADV_WILLNEED)
}

func resident(p, n uintptr) bool {
	lo := p &^ pageMask
	pages := min((p+n-lo+pageMask)/(pageMask+1), 16)
	var vec [16]byte
	_, _, e := syscall.Syscall(syscall.SYS_MINCORE, lo, pages*(pageMask+1), uintptr(unsafe.Pointer(&vec[0])))
	if e != 0 {
		return true
	}
	for _, v := range vec[:pages] {
		if v&1 == 0 {
			return false
		}
	}
	return true
}
