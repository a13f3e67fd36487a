//go:build !linux

package db

// physicalMemory returns 0 (unknown) where the store cannot ask the system.
func physicalMemory() int64 { return 0 }
