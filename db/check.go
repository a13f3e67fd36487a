package db

import (
	"context"
	"encoding/binary"
	"fmt"
	"github.com/laiondb/laiondb/vector"
	"math"
	"os"
	"path/filepath"
	"unicode/utf8"

	"github.com/cespare/xxhash/v2"
	"github.com/dgraph-io/badger/v4"
	"github.com/laiondb/laiondb/table"
)

// Problem is one inconsistency Check found.
type Problem struct {
	// Where names the file, segment or column concerned.
	Where string `json:"where"`
	What  string `json:"what"`
}

func (p Problem) String() string { return p.Where + ": " + p.What }

// CheckReport is the result of Check.
type CheckReport struct {
	Rows     int64     `json:"rows"`
	Segments int       `json:"segments"`
	Blocks   int       `json:"blocks"`
	Vectors  int64     `json:"vectors"`
	Problems []Problem `json:"problems"`
}

// OK reports whether Check found nothing wrong.
func (r *CheckReport) OK() bool { return len(r.Problems) == 0 }

// Check reads the whole store and verifies it against the manifest: every
// column block's checksum, row count and the statistics info reports; the
// vector files' sizes, digests and values; the index, when there is
// one; and the text index files' sizes, digests and bitmaps. It reports what is wrong rather than stopping at the first problem.
// The manifest itself is verified by Open.
func (d *DB) Check(ctx context.Context) (*CheckReport, error) {
	v, err := d.view()
	if err != nil {
		return nil, err
	}
	m := v.m
	r := &CheckReport{Rows: m.Rows, Segments: len(m.Segments)}
	add := func(where, format string, a ...any) {
		r.Problems = append(r.Problems, Problem{where, fmt.Sprintf(format, a...)})
	}
	var base int64
	for i, s := range m.Segments {
		if s.Base != base {
			add(s.Name, "starts at row %d, the previous segment ends at %d", s.Base, base)
		}
		base = s.Base + s.Rows
		if i > 0 && s.ID <= m.Segments[i-1].ID {
			add(s.Name, "segment id %d not above the previous (%d)", s.ID, m.Segments[i-1].ID)
		}
	}
	if base != m.Rows {
		add(manifestName, "segments hold %d rows, the manifest says %d", base, m.Rows)
	}
	for i := range m.Segments {
		if err := ctx.Err(); err != nil {
			return r, err
		}
		d.checkSegment(v, &m.Segments[i], r, add)
	}
	d.checkVectors(ctx, v, r, add)
	d.checkTrigrams(ctx, v, add)
	if err := d.checkIndex(v, add); err != nil {
		return r, err
	}
	return r, nil
}

// checkSegment reads every block of the segment's columns.
func (d *DB) checkSegment(v *view, s *Segment, r *CheckReport, add func(string, string, ...any)) {
	for _, name := range s.Columns {
		mc := v.m.column(name)
		where := fmt.Sprintf("%s, column %s", s.Name, name)
		if mc == nil {
			add(where, "not in the manifest's column list")
			continue
		}
		var rows, nulls, badUTF8, simInvalid int64
		nsfw := map[string]int64{}
		next := uint32(0)
		bdb := v.metas[s.metaName()]
		if bdb == nil {
			add(where, "metadata %s is not open", s.metaName())
			continue
		}
		err := bdb.View(func(txn *badger.Txn) error {
			prefix := blockKey(s.ID, mc.ID, 0)[:7]
			it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: false})
			defer it.Close()
			var c table.Column
			for it.Rewind(); it.Valid(); it.Next() {
				item := it.Item()
				start := binary.BigEndian.Uint32(item.Key()[7:])
				if start != next {
					add(where, "block at row %d, expected one at row %d", start, next)
				}
				err := item.Value(func(val []byte) error { return decodeBlock(val, mc.Type, &c) })
				if err != nil {
					add(where, "block at row %d: %v", start, err)
					next = start + blockRows
					continue
				}
				r.Blocks++
				n := blockLen(&c)
				next = start + uint32(n)
				rows += int64(n)
				for i := 0; i < n; i++ {
					if c.IsNull(i) {
						nulls++
						if name == "nsfw" {
							nsfw[""]++
						}
						continue
					}
					switch {
					case c.Type == table.TypeString:
						sv := c.Str.At(i)
						if !utf8.Valid(sv) {
							badUTF8++
						}
						if name == "nsfw" {
							nsfw[textKey(string(sv))]++
						}
					case name == "similarity" && c.Type == table.TypeFloat:
						if f := c.Float[i]; math.IsNaN(f) || f > 1 || f < -1 {
							simInvalid++
						}
					}
				}
			}
			return nil
		})
		if err != nil {
			add(where, "reading: %v", err)
			continue
		}
		if rows != s.Rows {
			add(where, "blocks hold %d rows, the segment has %d", rows, s.Rows)
		}
		if nulls != s.Stats.Nulls[name] {
			add(where, "%d nulls, the manifest says %d", nulls, s.Stats.Nulls[name])
		}
		if mc.Type == table.TypeString && badUTF8 != s.Stats.InvalidUTF8[name] {
			add(where, "%d invalid UTF-8 values, the manifest says %d", badUTF8, s.Stats.InvalidUTF8[name])
		}
		if name == "similarity" && simInvalid != s.Stats.SimilarityInvalid {
			add(where, "%d invalid similarity values, the manifest says %d", simInvalid, s.Stats.SimilarityInvalid)
		}
		if name == "nsfw" {
			for k, n := range nsfw {
				if s.Stats.NSFW[k] != n {
					add(where, "value %q counted %d times, the manifest says %d", k, n, s.Stats.NSFW[k])
				}
			}
			for k, n := range s.Stats.NSFW {
				if nsfw[k] == 0 && n != 0 {
					add(where, "value %q not found, the manifest counts %d", k, n)
				}
			}
		}
	}
}

// blockLen returns the number of values in a decoded column.
func blockLen(c *table.Column) int {
	switch c.Type {
	case table.TypeString:
		return c.Str.Len()
	case table.TypeInt:
		return len(c.Int)
	case table.TypeFloat:
		return len(c.Float)
	}
	return len(c.Bool)
}

// checkVectors verifies the vector files' sizes, each segment's digest,
// that every stored vector is finite and about unit-norm, and that the
// inverse norms scores use are the vectors'.
func (d *DB) checkVectors(ctx context.Context, v *view, r *CheckReport, add func(string, string, ...any)) {
	for _, f := range []struct {
		name string
		m    func(*Segment) (bool, string)
		file *vecFile
	}{
		{"img", func(s *Segment) (bool, string) { return s.HasImage, s.ImageSum }, d.imgFile(nil)},
		{"txt", func(s *Segment) (bool, string) { return s.HasText, s.TextSum }, d.txtFile(nil)},
	} {
		need := false
		for i := range v.m.Segments {
			has, _ := f.m(&v.m.Segments[i])
			need = need || has
		}
		if !need {
			continue
		}
		path := vecPath(d.dir, f.name, v.m.DType)
		if f.file == nil {
			add(path, "missing")
			continue
		}
		st, err := os.Stat(path)
		want := v.m.Rows * int64(v.m.Dim) * int64(elemSize(v.m.DType))
		if err != nil || st.Size() != want {
			add(path, "size %d, the manifest needs %d (%v)", sizeOf(st), want, err)
			continue
		}
		mat := f.file.matrix(v.m.Rows)
		rowBytes := v.m.Dim * elemSize(v.m.DType)
		raw := f.file.cur
		for i := range v.m.Segments {
			s := &v.m.Segments[i]
			has, sum := f.m(s)
			if !has {
				continue
			}
			if ctx.Err() != nil {
				return
			}
			got := fmt.Sprintf("%016x", xxhash.Sum64(raw[s.Base*int64(rowBytes):(s.Base+s.Rows)*int64(rowBytes)]))
			if sum != "" && got != sum {
				add(filepath.Base(path), "rows %d-%d (%s): digest %s, the manifest says %s", s.Base, s.Base+s.Rows-1, s.Name, got, sum)
			}
			// The stored inverse norms (vectors/*.inv) that scores use,
			// against the vectors.
			plain := mat
			plain.Inv = nil
			var one [1]float32
			for row := s.Base; row < s.Base+s.Rows && mat.Inv != nil; row++ {
				if want := vector.InvNorms(plain, int(row), int(row)+1, one[:0])[0]; math.Float32bits(want) != math.Float32bits(mat.Inv[row]) {
					add(filepath.Base(f.file.normsPath()), "row %d: inverse norm %v, the vector gives %v", row, mat.Inv[row], want)
					break
				}
			}
			buf := make([]float32, v.m.Dim)
			for row := s.Base; row < s.Base+s.Rows; row++ {
				x := mat.Row(int(row), buf)
				var ss float64
				for _, e := range x {
					ss += float64(e) * float64(e)
				}
				if math.IsNaN(ss) || math.IsInf(ss, 0) || math.Abs(math.Sqrt(ss)-1) > 2e-2 {
					add(filepath.Base(path), "row %d: norm %v, want 1", row, math.Sqrt(ss))
					break
				}
				r.Vectors++
			}
		}
	}
}

func sizeOf(st os.FileInfo) int64 {
	if st == nil {
		return -1
	}
	return st.Size()
}
