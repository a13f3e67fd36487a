package hnsw

// mapping is a memory-mapped index file.
type mapping struct {
	data []byte
}

// makeWritable moves memory-mapped arrays to the heap so Add can modify
// them. The caller holds ix.mu for writing.
func (ix *Index) makeWritable() {
	if ix.mapped == nil {
		return
	}
	ix.levels = append([]uint8(nil), ix.levels...)
	ix.links0 = append([]uint32(nil), ix.links0...)
	ix.upperOff = append([]uint32(nil), ix.upperOff...)
	ix.upper = append([]uint32(nil), ix.upper...)
	ix.mapped = nil
}
