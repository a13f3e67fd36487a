//go:build !linux

package hugemem

// On reports whether huge pages are offered: never, here.
func On() bool { return false }

func alloc(n int) (b, mapping []byte) { return nil, nil }

func free(mapping []byte) error { return nil }
