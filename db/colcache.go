package db

import (
	"bytes"
	"container/list"
	"sync"

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
	mu    sync.Mutex
	max   int64
	used  int64
	ll    *list.List // of *cachedBlock, most recent first
	byKey map[blockRef]*list.Element
}

// blockRef names a decoded block: segment, column, first row within the
// segment, and the type it was decoded to.
type blockRef struct {
	seg   uint32
	col   uint16
	start uint32
	typ   table.Type
}

type cachedBlock struct {
	ref   blockRef
	c     *table.Column
	bytes int64
}

func newColumnCache(maxBytes int64) *columnCache {
	return &columnCache{max: maxBytes, ll: list.New(), byKey: map[blockRef]*list.Element{}}
}

// get returns the cached block, or nil.
func (cc *columnCache) get(ref blockRef) *table.Column {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	e, ok := cc.byKey[ref]
	if !ok {
		return nil
	}
	cc.ll.MoveToFront(e)
	return e.Value.(*cachedBlock).c
}

// put keeps c, which nobody may change afterwards, unless it alone takes
// more than an eighth of the budget.
func (cc *columnCache) put(ref blockRef, c *table.Column) {
	n := columnBytes(c)
	if n > cc.max/8 {
		return
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if _, ok := cc.byKey[ref]; ok {
		return
	}
	cc.byKey[ref] = cc.ll.PushFront(&cachedBlock{ref: ref, c: c, bytes: n})
	cc.used += n
	for cc.used > cc.max {
		e := cc.ll.Back()
		b := e.Value.(*cachedBlock)
		cc.ll.Remove(e)
		delete(cc.byKey, b.ref)
		cc.used -= b.bytes
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
