package db

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

// TestTxnsBlock reads block keys through txns.block in orders a reader
// uses (increasing, with gaps shorter and longer than cursorReach) and in
// orders it does not (backwards, repeated, random), on two databases with
// columns that miss blocks: every answer is the value or the
// ErrKeyNotFound of a Get.
func TestTxnsBlock(t *testing.T) {
	metas := map[string]*badger.DB{}
	segs := []*Segment{{ID: 3, Meta: "meta/a"}, {ID: 4, Meta: "meta/b"}}
	var keys [][]byte // every key asked for, present or not
	for _, s := range segs {
		bdb, err := badger.Open(badger.DefaultOptions(t.TempDir()).WithLogger(nil))
		if err != nil {
			t.Fatal(err)
		}
		defer bdb.Close()
		metas[s.Meta] = bdb
		err = bdb.Update(func(txn *badger.Txn) error {
			for col := uint16(1); col <= 3; col++ {
				for start := uint32(0); start < 40*blockRows; start += blockRows {
					k := blockKey(s.ID, col, start)
					keys = append(keys, k)
					if (start/blockRows)%uint32(col+4) == 2 {
						continue // a block the column lacks
					}
					if err := txn.Set(k, []byte(fmt.Sprintf("%d/%d/%d", s.ID, col, start))); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	segOf := func(k []byte) *Segment {
		for _, s := range segs {
			if string(blockKey(s.ID, 0, 0)[:5]) == string(k[:5]) {
				return s
			}
		}
		t.Fatalf("no segment for %x", k)
		return nil
	}
	want := func(k []byte) string {
		var v string
		err := metas[segOf(k).Meta].View(func(txn *badger.Txn) error {
			item, err := txn.Get(k)
			if errors.Is(err, badger.ErrKeyNotFound) {
				v = "missing"
				return nil
			} else if err != nil {
				return err
			}
			b, err := item.ValueCopy(nil)
			v = string(b)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	rng := rand.New(rand.NewPCG(1, 2))
	orders := map[string][][]byte{"increasing": keys}
	for _, step := range []int{2, cursorReach, cursorReach + 3, 25} {
		var o [][]byte
		for i := 0; i < len(keys); i += 1 + rng.IntN(step) {
			o = append(o, keys[i])
		}
		orders[fmt.Sprintf("gaps up to %d", step)] = o
	}
	var back, rnd [][]byte
	for i := len(keys) - 1; i >= 0; i-- {
		back = append(back, keys[i], keys[i])
	}
	for range 2000 {
		rnd = append(rnd, keys[rng.IntN(len(keys))])
	}
	orders["backwards, each twice"], orders["random"] = back, rnd
	for name, o := range orders {
		tx := &txns{metas: metas, open: map[string]*badger.Txn{}}
		for _, k := range o {
			got := "missing"
			item, err := tx.block(segOf(k), k)
			switch {
			case errors.Is(err, badger.ErrKeyNotFound):
			case err != nil:
				t.Fatal(err)
			default:
				b, err := item.ValueCopy(nil)
				if err != nil {
					t.Fatal(err)
				}
				got = string(b)
			}
			if w := want(k); got != w {
				t.Fatalf("%s: block %x read %q, Get reads %q", name, k, got, w)
			}
		}
		tx.discard()
	}
}
