package hugemem

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// Alloc gives aligned, zeroed, writable memory of the size asked for when
// huge pages are on, and nothing otherwise; Free releases it.
func TestAlloc(t *testing.T) {
	for _, n := range []int{1, Page - 1, Page, 3*Page + 5} {
		b, m := Alloc(n)
		if !On() {
			if b != nil || m != nil {
				t.Fatal("memory without huge pages")
			}
			continue
		}
		if len(b) != n || cap(b) != n || uintptr(unsafe.Pointer(&b[0]))%Page != 0 {
			t.Fatalf("n=%d: len %d cap %d at %p", n, len(b), cap(b), &b[0])
		}
		for i := range b {
			if b[i] != 0 {
				t.Fatalf("n=%d: byte %d is %d", n, i, b[i])
			}
			b[i] = byte(i)
		}
		if n == 3*Page+5 {
			// Touched, the aligned pages are huge where the kernel had
			// them to give; the test says what it saw, not fails on it.
			if s, err := os.ReadFile("/proc/self/smaps_rollup"); err == nil {
				for _, l := range strings.Split(string(s), "\n") {
					if strings.HasPrefix(l, "AnonHugePages:") {
						f := strings.Fields(l)
						kb, _ := strconv.Atoi(f[1])
						t.Logf("AnonHugePages after touching %d bytes: %d kB", n, kb)
					}
				}
			}
		}
		if err := Free(m); err != nil {
			t.Fatal(err)
		}
	}
	if b, m := Alloc(0); b != nil || m != nil {
		t.Error("Alloc(0) allocated")
	}
	if err := Free(nil); err != nil {
		t.Error(err)
	}
}
