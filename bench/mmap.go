package bench

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"syscall"
	"unsafe"
)

// MmapNpyF16 memory-maps a 2-d float16 .npy file read-only and returns its
// values (aliasing the mapping, never unmapped) and its column count.
func MmapNpyF16(path string) ([]uint16, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("bench: %w", err)
	}
	defer f.Close()
	head := make([]byte, 12)
	if _, err := io.ReadFull(f, head); err != nil {
		return nil, 0, fmt.Errorf("bench: %s: %w", path, err)
	}
	var hlen, off int
	switch head[6] {
	case 1:
		hlen, off = int(binary.LittleEndian.Uint16(head[8:10])), 10
	default:
		hlen, off = int(binary.LittleEndian.Uint32(head[8:12])), 12
	}
	hdr := make([]byte, off+hlen)
	if _, err := f.ReadAt(hdr, 0); err != nil {
		return nil, 0, fmt.Errorf("bench: %s: %w", path, err)
	}
	// Parse the header alone (an empty array body) to get dtype and shape.
	a, err := parseNpyHeader(hdr)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", path, err)
	}
	if a.Descr != "<f2" {
		return nil, 0, fmt.Errorf("bench: %s: dtype %s, want <f2", path, a.Descr)
	}
	st, err := f.Stat()
	if err != nil {
		return nil, 0, fmt.Errorf("bench: %w", err)
	}
	want := int64(len(hdr)) + int64(2*a.Rows*a.Cols)
	if st.Size() != want {
		return nil, 0, fmt.Errorf("bench: %s: %d bytes, header implies %d", path, st.Size(), want)
	}
	if a.Rows*a.Cols == 0 {
		return nil, a.Cols, nil
	}
	b, err := syscall.Mmap(int(f.Fd()), 0, int(st.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, 0, fmt.Errorf("bench: mmap %s: %w", path, err)
	}
	data := b[len(hdr):]
	if uintptr(unsafe.Pointer(&data[0]))%2 != 0 {
		return nil, 0, fmt.Errorf("bench: %s: misaligned data", path)
	}
	return unsafe.Slice((*uint16)(unsafe.Pointer(&data[0])), a.Rows*a.Cols), a.Cols, nil
}
