package db

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/laiondb/laiondb/table"
)

// testBlock builds a block of n values of type t, every fifth null when
// nulls is set; strings have lengths from 0 to 300 bytes, so that values
// cross chunk boundaries.
func testBlock(t table.Type, n int, nulls bool, seed uint64) (*colBuilder, []byte) {
	r := rand.New(rand.NewPCG(seed, 1))
	b := newColBuilder(t)
	for i := range n {
		if nulls && i%5 == 2 {
			b.appendNull()
			continue
		}
		switch t {
		case table.TypeString:
			b.appendString([]byte(strings.Repeat(string(rune('a'+i%26)), r.IntN(300))))
		case table.TypeInt:
			b.appendInt(r.Int64() - 1<<62)
		case table.TypeFloat:
			b.appendFloat(r.NormFloat64())
		case table.TypeBool:
			b.appendBool(r.IntN(2) == 1)
		}
	}
	return b, b.encode()
}

// unchunk rewrites a chunked block as stores of format 1 and 2 wrote it:
// no sums, one checksum of everything after it.
func unchunk(val []byte) []byte {
	body, _, err := chunked(val)
	if err != nil {
		panic(err)
	}
	old := bytes.Clone(body)
	old[9] &^= blockChunked
	binary.LittleEndian.PutUint32(old, crc32.Checksum(old[4:], castagnoli))
	return old
}

// readAll reads every value of a block through readBlock, one at a time.
func readAll(d *DB, key string, val []byte, typ table.Type) (*table.Column, error) {
	br, err := d.readBlock(key, val)
	if err != nil {
		return nil, err
	}
	b := newColBuilder(typ)
	// touch every value (and one row past the block, which it skips) on
	// whatever block this is: it must not fail or panic.
	rows, slots := make([]uint32, br.n+1), make([]int, br.n+1)
	for i := range rows {
		rows[i], slots[i] = uint32(i)+7, i
	}
	b.sink += br.touch(rows, slots, 7)
	for i := range br.n {
		if err := br.appendTo(b, i, typ); err != nil {
			return nil, fmt.Errorf("value %d: %w", i, err)
		}
	}
	return b.column(), nil
}

func sameColumn(a, b *table.Column, n int) error {
	for i := range n {
		if a.IsNull(i) != b.IsNull(i) {
			return fmt.Errorf("value %d: null %v, want %v", i, b.IsNull(i), a.IsNull(i))
		}
		if a.IsNull(i) {
			continue
		}
		ok := true
		switch a.Type {
		case table.TypeString:
			ok = bytes.Equal(a.Str.At(i), b.Str.At(i))
		case table.TypeInt:
			ok = a.Int[i] == b.Int[i]
		case table.TypeFloat:
			ok = math.Float64bits(a.Float[i]) == math.Float64bits(b.Float[i]) // NaN too
		case table.TypeBool:
			ok = a.Bool[i] == b.Bool[i]
		}
		if !ok {
			return fmt.Errorf("value %d differs", i)
		}
	}
	return nil
}

// TestBlockRoundTrip: every type, with and without nulls, chunked and in
// the unchunked layout of formats 1 and 2, decodes whole (scans) and value
// by value (fetches) to what was written.
func TestBlockRoundTrip(t *testing.T) {
	for _, typ := range []table.Type{table.TypeString, table.TypeInt, table.TypeFloat, table.TypeBool} {
		for _, n := range []int{0, 1, 300, 5000} {
			for _, nulls := range []bool{false, true} {
				b, val := testBlock(typ, n, nulls, uint64(n))
				want := b.column()
				for _, layout := range []string{"chunked", "unchunked"} {
					v := val
					if layout == "unchunked" {
						v = unchunk(val)
					}
					name := fmt.Sprintf("%v/%d/nulls=%v/%s", typ, n, nulls, layout)
					var c table.Column
					if err := decodeBlock(v, typ, &c); err != nil {
						t.Fatalf("%s: decode: %v", name, err)
					}
					if err := sameColumn(want, &c, n); err != nil {
						t.Fatalf("%s: decode: %v", name, err)
					}
					got, err := readAll(&DB{}, "k", v, typ)
					if err != nil {
						t.Fatalf("%s: read: %v", name, err)
					}
					if err := sameColumn(want, got, n); err != nil {
						t.Fatalf("%s: read: %v", name, err)
					}
				}
			}
		}
	}
}

// TestBlockChunkDamage: a damaged byte of a chunked block is reported by
// every read of the values its chunk holds and by a scan's decode, not by
// reads of values elsewhere; damaged sums or header fail every read.
func TestBlockChunkDamage(t *testing.T) {
	b, val := testBlock(table.TypeString, 3000, true, 7)
	col := b.column()
	body, _, _ := chunked(val)
	// Damage the middle of value 1500's bytes.
	const r = 1500
	if col.IsNull(r) || len(col.Str.At(r)) == 0 {
		t.Fatal("value 1500 is empty")
	}
	dataAt := 10 + 3000 + 4*3001
	at := dataAt + int(col.Str.Off[r]) + len(col.Str.At(r))/2
	bad := bytes.Clone(val)
	bad[at] ^= 0x10
	d := &DB{}
	br, err := d.readBlock("k", bad)
	if err != nil {
		t.Fatalf("readBlock: %v", err)
	}
	if err := br.appendTo(newColBuilder(table.TypeString), r, table.TypeString); !errors.Is(err, ErrCorrupt) {
		t.Errorf("value %d: %v, want ErrCorrupt", r, err)
	}
	// Again: a chunk found damaged is not marked checked.
	if err := br.appendTo(newColBuilder(table.TypeString), r, table.TypeString); !errors.Is(err, ErrCorrupt) {
		t.Errorf("value %d again: %v, want ErrCorrupt", r, err)
	}
	chunk := (at - 4) / chunkSize
	for _, i := range []int{0, 2999} {
		lo, hi := dataAt+int(col.Str.Off[i]), dataAt+int(col.Str.Off[i+1])
		if (lo-4)/chunkSize <= chunk && chunk <= (max(hi, lo+1)-5)/chunkSize {
			t.Fatalf("value %d shares the damaged chunk", i)
		}
		if err := br.appendTo(newColBuilder(table.TypeString), i, table.TypeString); err != nil {
			t.Errorf("value %d, away from the damage: %v", i, err)
		}
	}
	var c table.Column
	if err := decodeBlock(bad, table.TypeString, &c); !errors.Is(err, ErrCorrupt) {
		t.Errorf("decode: %v, want ErrCorrupt", err)
	}
	for name, off := range map[string]int{"header": 6, "null map": 12, "sums": len(body) + 8, "sum count": len(val) - 2, "crc": 1} {
		bad := bytes.Clone(val)
		bad[off] ^= 0x10
		if _, err := (&DB{}).readBlock("k", bad); !errors.Is(err, ErrCorrupt) {
			// The null map's chunk is checked when a null is read.
			if _, err2 := readAll(&DB{}, "k", bad, table.TypeString); name != "null map" || !errors.Is(err2, ErrCorrupt) {
				t.Errorf("%s damaged: readBlock %v, reads %v, want ErrCorrupt", name, err, err2)
			}
		}
		if err := decodeBlock(bad, table.TypeString, &c); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s damaged: decode %v, want ErrCorrupt", name, err)
		}
	}
	for _, cut := range []int{0, 9, 13, len(val) - 1, len(body)} {
		if _, err := readAll(&DB{}, "k", val[:cut], table.TypeString); !errors.Is(err, ErrCorrupt) {
			t.Errorf("cut to %d bytes: %v, want ErrCorrupt", cut, err)
		}
	}
	// An unchunked block is checked whole on its first read.
	old := unchunk(val)
	old[at] ^= 0x10
	if _, err := (&DB{}).readBlock("k", old); !errors.Is(err, ErrCorrupt) {
		t.Errorf("unchunked, damaged: %v, want ErrCorrupt", err)
	}
}

// FuzzBlock reads arbitrary block contents, sealed with valid checksums
// so that the decoding behind them is reached: never a panic; a scan's
// decode and the value-by-value reads agree.
func FuzzBlock(f *testing.F) {
	for _, typ := range []table.Type{table.TypeString, table.TypeInt, table.TypeFloat, table.TypeBool} {
		_, val := testBlock(typ, 40, true, 3)
		body, _, _ := chunked(val)
		f.Add(body[4:])
	}
	f.Fuzz(func(t *testing.T, content []byte) {
		if len(content) < 6 {
			return
		}
		val := append(make([]byte, 4, 4+len(content)), content...)
		val[9] |= blockChunked
		val = sealChunked(val)
		typ := table.Type(val[4])
		var c table.Column
		derr := decodeBlock(val, typ, &c)
		got, rerr := readAll(&DB{}, "k", val, typ)
		if derr == nil && rerr == nil {
			if err := sameColumn(&c, got, int(binary.LittleEndian.Uint32(val[5:]))); err != nil {
				t.Fatal(err)
			}
		}
		if derr != nil && !errors.Is(derr, ErrCorrupt) {
			t.Fatalf("decode: %v, not ErrCorrupt", derr)
		}
		if rerr != nil && !errors.Is(rerr, ErrCorrupt) {
			t.Fatalf("read: %v, not ErrCorrupt", rerr)
		}
	})
}
