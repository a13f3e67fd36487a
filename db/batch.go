package db

import "github.com/dgraph-io/badger/v4"

// batchBytes bounds the keys and values a blockBatch holds before it
// writes them out.
const batchBytes = 64 << 20

// blockBatch writes key–value pairs to a Badger database through
// WriteBatches of at most batchBytes each. Badger's own WriteBatch sizes its
// transactions by what they add to the LSM tree, and a value stored in the
// value log adds only a pointer there: column blocks (up to a few MB each)
// were held in memory until the end, so merging the 100 databases of a
// 100M-row ingest held all 25 GB of them, and was killed for it. Not safe
// for concurrent use.
type blockBatch struct {
	db  *badger.DB
	wb  *badger.WriteBatch
	n   int // bytes in wb
	max int // batchBytes
}

func newBlockBatch(db *badger.DB) *blockBatch {
	return &blockBatch{db: db, wb: db.NewWriteBatch(), max: batchBytes}
}

// Set adds the pair, first writing out what the batch holds when the pair
// would take it past batchBytes.
func (b *blockBatch) Set(k, v []byte) error {
	if b.n > 0 && b.n+len(k)+len(v) > b.max {
		if err := b.wb.Flush(); err != nil {
			return err
		}
		b.wb, b.n = b.db.NewWriteBatch(), 0
	}
	b.n += len(k) + len(v)
	return b.wb.Set(k, v)
}

// Flush writes out what the batch holds and waits for it.
func (b *blockBatch) Flush() error { return b.wb.Flush() }

// Cancel drops what the batch holds and has not written out.
func (b *blockBatch) Cancel() { b.wb.Cancel() }
