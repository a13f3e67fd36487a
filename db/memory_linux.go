package db

import "syscall"

// physicalMemory returns the machine's physical memory in bytes, or 0
// where it cannot tell.
func physicalMemory() int64 {
	var si syscall.Sysinfo_t
	if syscall.Sysinfo(&si) != nil {
		return 0
	}
	return int64(si.Totalram) * int64(si.Unit)
}
