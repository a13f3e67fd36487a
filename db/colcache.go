package db

import (
	"bytes"

	"github.com/laiondb/laiondb/internal/lru"
	"github.com/laiondb/laiondb/table"
)

// columnCache keeps decoded column blocks, so that a scan reading the same
// columns again (a server's filters, the dozen queries of an audit, the
// where clause of every k-NN search) skips reading them from Badger,
// checking their checksums and decoding them: over 1M rows that is most
// of a numeric predicate's cost. Committed blocks never change, segment
// ids are never reused, and a column keeps its id, so a block's key stays
// valid across commits. The cache holds at most its byte budget, dropping
// the least recently used blocks; it is safe for concurrent use, and the
// columns it hands out are shared and never changed.
type columnCache struct {
	c *lru.Cache[blockRef, *table.Column]
}

// blockRef names a decoded block: segment, column, first row within the
// segment, and the type it was decoded to.
type blockRef struct {
	seg   uint32
	col   uint16
	start uint32
	typ   table.Type
}

func newColumnCache(maxBytes int64) *columnCache {
	return &columnCache{c: lru.New[blockRef, *table.Column](maxBytes)}
}

// get returns the cached block, or nil.
func (cc *columnCache) get(ref blockRef) *table.Column {
	c, _ := cc.c.Get(ref)
	return c
}

// put keeps c, which nobody may change afterwards, unless it alone takes
// more than an eighth of the budget.
func (cc *columnCache) put(ref blockRef, c *table.Column) {
	if n := columnBytes(c); n <= cc.c.Max()/8 {
		cc.c.Put(ref, c, n)
	}
}

// columnBytes is the memory c's values take.
func columnBytes(c *table.Column) int64 {
	return int64(8*len(c.Int) + 8*len(c.Float) + len(c.Bool) + len(c.Null) + len(c.Str.Data) + 4*len(c.Str.Off))
}

// ownedColumn decodes a block into a column of its own: string data is
// copied out of val, which Badger owns.
func ownedColumn(val []byte, want table.Type) (*table.Column, error) {
	c := new(table.Column)
	if err := decodeBlock(val, want, c); err != nil {
		return nil, err
	}
	if c.Str.Data != nil {
		c.Str.Data = bytes.Clone(c.Str.Data)
	}
	return c, nil
}
