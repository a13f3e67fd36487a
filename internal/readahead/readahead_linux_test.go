package readahead

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/edsrzf/mmap-go"
)

// TestResidentWillNeed: pages dropped from the page cache are not
// resident; asked for, they become resident without being touched.
func TestResidentWillNeed(t *testing.T) {
	heap := make([]byte, 1<<16)
	if !Resident(unsafe.Pointer(&heap[100]), 5000) {
		t.Error("heap memory in use is not resident")
	}
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, make([]byte, 8<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// Written back, then dropped: POSIX_FADV_DONTNEED (4).
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if _, _, e := syscall.Syscall6(syscall.SYS_FADVISE64, f.Fd(), 0, 0, 4, 0, 0); e != 0 {
		t.Skipf("fadvise: %v", e)
	}
	m, err := mmap.Map(f, mmap.RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Unmap()
	at := unsafe.Pointer(&m[5<<20+123])
	if Resident(at, 3000) {
		t.Skip("the page cache kept the dropped pages (a file system that ignores DONTNEED)")
	}
	Span(at, 3000)
	for i := 0; !Resident(at, 3000); i++ {
		if i == 200 {
			t.Fatal("pages asked for are not resident after 2 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	Bytes(m[:0]) // nothing to ask for
}
