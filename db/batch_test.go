package db

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

// TestBlockBatch writes values of 100 KB, each past Badger's value
// threshold, through a blockBatch bounded at 1 MB: it never holds more than
// that, and every value is in the database after Flush.
func TestBlockBatch(t *testing.T) {
	bdb, err := badger.Open(badger.DefaultOptions(t.TempDir()).WithLogger(nil).WithValueThreshold(4 << 10))
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	b := newBlockBatch(bdb)
	b.max = 1 << 20
	defer b.Cancel()
	val := func(i int) []byte { return bytes.Repeat([]byte{byte(i)}, 100<<10) }
	flushes := 0
	for i := range 50 {
		before := b.n
		if err := b.Set([]byte(fmt.Sprintf("k%03d", i)), val(i)); err != nil {
			t.Fatal(err)
		}
		if b.n > b.max {
			t.Fatalf("after value %d the batch holds %d bytes, more than %d", i, b.n, b.max)
		}
		if b.n < before {
			flushes++
		}
	}
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	if flushes < 4 {
		t.Errorf("%d writes of 1 MB for 5 MB of values", flushes)
	}
	err = bdb.View(func(txn *badger.Txn) error {
		for i := range 50 {
			item, err := txn.Get([]byte(fmt.Sprintf("k%03d", i)))
			if err != nil {
				return err
			}
			v, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			if !bytes.Equal(v, val(i)) {
				return fmt.Errorf("value %d differs", i)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
