// Package hugemem allocates memory the kernel is asked to back with 2 MiB
// pages (transparent huge pages, madvise MADV_HUGEPAGE).
//
// A search that reads a few hundred bytes here and there across hundreds
// of megabytes (an HNSW's links and codes) spends much of its time in page
// walks when the memory is the page cache's 4 KiB pages: one TLB entry
// covers 4 KiB instead of 2 MiB. Copying such arrays into memory from
// Alloc removes most of those walks. Where the kernel offers no huge
// pages (other systems, or transparent huge pages set to "never"), Alloc
// returns nil and the caller keeps what it had.
package hugemem

// Page is the size of a huge page.
const Page = 2 << 20

// Alloc returns n bytes of zeroed memory aligned to Page and advised to
// be backed by huge pages, and the mapping that Free releases; or nil, nil
// when huge pages are not offered or the kernel refuses.
func Alloc(n int) (b, mapping []byte) { return alloc(n) }

// Free releases a mapping returned by Alloc; nil is a no-op.
func Free(mapping []byte) error {
	if mapping == nil {
		return nil
	}
	return free(mapping)
}
