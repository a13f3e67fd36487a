package audit

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"runtime/debug"
	"slices"
	"sort"
	"strings"

	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/internal/heap"
	"github.com/laiondb/laiondb/table"
)

// Exact duplicates across shards.
//
// Duplicates needs every row's key in one place. A dataset held as shards
// on several machines counts them in two steps: each shard writes its
// distinct keys to a partial file (WriteDupsPartial), each key as the
// first 16 bytes of the SHA-256 of its encoding with the number of the
// shard's rows that hold it and the first of them, sorted by that hash;
// MergeDups then reads the shards' files side by side, in one pass, adds
// the counts of equal keys, and gives the report of the store of all the
// shards' rows (shards numbered 1..m in row order, as for query
// partials). Two different keys count as one only if their 128-bit hashes
// are equal: for the 5.85 billion rows of LAION-5B, a chance of about one
// in 10^19. A record takes 24 bytes, so a shard's file is about 24 bytes
// a distinct key (LAION-400M's 413M URLs: about 10 GB over all shards),
// and the merge holds one record of each shard at a time.
//
// A file is a line of JSON (DupsPartial), then DupsPartial.Keys records
// of 24 bytes: the hash, the count and the first row (little-endian
// uint32 each). The header's digest covers the records; the merge checks
// it, and that the hashes rise, the counts add up to the rows and every
// first row lies in the shard.

// DupsPartialFormat is the version of the file WriteDupsPartial writes
// and MergeDups reads.
const DupsPartialFormat = 1

// dupsMagic starts every dups partial file, before its header.
const dupsMagic = "laiondb dups partial\n"

// dupsRecord is the size of a key record.
const dupsRecord = 24

// ErrDupsPartial is the error of a dups partial that cannot be written or
// merged.
var ErrDupsPartial = errors.New("dups partial results")

// DupsPartial is the header of a shard's dups partial file.
type DupsPartial struct {
	Format  int    `json:"format"`
	Version string `json:"laiondb_version"`
	// Key are the key columns, and KeyTypes their types in the shard.
	Key      []string     `json:"key"`
	KeyTypes []table.Type `json:"key_types"`
	// Where is DupsOptions.Where: the predicate that chose the rows
	// counted, the same in every shard.
	Where string `json:"where,omitempty"`
	// Shard is this shard's number, 1..Shards, in row order.
	Shard  int `json:"shard"`
	Shards int `json:"shards"`
	// Fingerprint is the shard store's.
	Fingerprint string `json:"fingerprint"`
	// StoreRows are the shard's rows, Rows those counted, Keys the
	// distinct keys among them (the records that follow).
	StoreRows int `json:"store_rows"`
	Rows      int `json:"rows"`
	Keys      int `json:"keys"`
	// Digest is the SHA-256 of the records, in hex.
	Digest string `json:"records_sha256"`
}

// WriteDupsPartial counts the keys of s, shard number shard of shards, as
// Duplicates does (o.Key, o.Selection, o.Where; o.KeepRows is refused:
// the rows a dedup drops depend on the other shards), and writes its
// partial file to w.
func WriteDupsPartial(ctx context.Context, w io.Writer, s engine.Store, o *DupsOptions, shard, shards int) (*DupsPartial, error) {
	opts, err := dupsOptions(s, o)
	if err != nil {
		return nil, err
	}
	switch {
	case opts.KeepRows:
		return nil, fmt.Errorf("%w: the rows a dedup drops depend on every shard's rows: merge the shards' counts, or count over the shards' stores on one machine", ErrDupsPartial)
	case shards < 1 || shard < 1 || shard > shards:
		return nil, fmt.Errorf("%w: shard %d of %d: want 1 <= shard <= shards", ErrDupsPartial, shard, shards)
	}
	keys, rows, err := countKeys(ctx, s, opts)
	if err != nil {
		return nil, err
	}
	type rec struct {
		h     [16]byte
		n     uint32
		first uint32
	}
	recs := make([]rec, 0, len(keys))
	for k, e := range keys {
		sum := sha256.Sum256([]byte(k))
		recs = append(recs, rec{h: [16]byte(sum[:16]), n: uint32(e.n), first: e.first})
	}
	clear(keys)
	slices.SortFunc(recs, func(a, b rec) int { return bytes.Compare(a.h[:], b.h[:]) })
	// Keys whose hashes are equal count as one, here as in the merge.
	out := recs[:0]
	for _, r := range recs {
		if l := len(out) - 1; l >= 0 && out[l].h == r.h {
			out[l].n += r.n
			out[l].first = min(out[l].first, r.first)
			continue
		}
		out = append(out, r)
	}
	// The records twice: through the digest the header holds, then out.
	record := func(b []byte, r rec) []byte {
		b = append(b[:0], r.h[:]...)
		b = binary.LittleEndian.AppendUint32(b, r.n)
		return binary.LittleEndian.AppendUint32(b, r.first)
	}
	sum := sha256.New()
	var b []byte
	for _, r := range out {
		b = record(b, r)
		sum.Write(b)
	}
	digest := sum.Sum(nil)
	types := make([]table.Type, len(opts.Key))
	for i, k := range opts.Key {
		for _, c := range s.Columns() {
			if c.Name == k {
				types[i] = c.Type
			}
		}
	}
	p := &DupsPartial{Format: DupsPartialFormat, Version: moduleVersion(), Key: opts.Key, KeyTypes: types, Where: opts.Where,
		Shard: shard, Shards: shards, Fingerprint: s.Fingerprint(), StoreRows: s.NumRows(), Rows: rows, Keys: len(out),
		Digest: hex.EncodeToString(digest)}
	bw := bufio.NewWriter(w)
	if err := writeHeader(bw, dupsMagic, p); err != nil {
		return nil, err
	}
	for _, r := range out {
		b = record(b, r)
		if _, err := bw.Write(b); err != nil {
			return nil, err
		}
	}
	if err := bw.Flush(); err != nil {
		return nil, err
	}
	return p, nil
}

// writeHeader writes the start of a partial file: its magic line, then its
// header as a line of JSON.
func writeHeader(bw *bufio.Writer, magic string, hdr any) error {
	b, err := json.Marshal(hdr)
	if err != nil {
		return err
	}
	bw.WriteString(magic)
	bw.Write(b)
	return bw.WriteByte('\n')
}

// readHeader reads the start of a partial file written by writeHeader into
// hdr, refusing another magic line (the file is not what) and unknown
// fields; name names the file in errors.
func readHeader(br *bufio.Reader, name, magic, what string, hdr any) error {
	m := make([]byte, len(magic))
	if _, err := io.ReadFull(br, m); err != nil || string(m) != magic {
		return fmt.Errorf("%w: %s: not %s", ErrDupsPartial, name, what)
	}
	line, err := br.ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("%w: %s: its header: %v", ErrDupsPartial, name, err)
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(hdr); err != nil {
		return fmt.Errorf("%w: %s: its header: %v", ErrDupsPartial, name, err)
	}
	return nil
}

// moduleVersion is the laiondb module version of this build.
func moduleVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

// dupsReader reads one shard's dups partial file: its header, then its
// records one at a time, checking each and, at the end, the digest.
type dupsReader struct {
	name string
	p    DupsPartial
	r    *bufio.Reader
	sum  hash.Hash
	read int   // records read
	rows int64 // the counts read, summed
	// the current record
	h     [16]byte
	n     uint32
	first uint32
	off   int64 // the rows of the shards before this one
}

// openDups reads the header of the dups partial file r (named name in
// errors).
func openDups(name string, r io.Reader) (*dupsReader, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	d := &dupsReader{name: name, r: br, sum: sha256.New()}
	if err := readHeader(br, name, dupsMagic, "a dups partial result (laiondb dups --partial writes them)", &d.p); err != nil {
		return nil, err
	}
	p := &d.p
	switch {
	case p.Format != DupsPartialFormat:
		return nil, fmt.Errorf("%w: %s: format %d, this laiondb reads format %d (written by laiondb %s): write it again with this laiondb", ErrDupsPartial, name, p.Format, DupsPartialFormat, p.Version)
	case p.StoreRows < 0 || p.Rows < 0 || p.Rows > p.StoreRows || p.Keys < 0 || p.Keys > p.Rows || p.Rows > 0 && p.Keys == 0:
		return nil, fmt.Errorf("%w: %s: %d rows of %d with %d keys cannot be", ErrDupsPartial, name, p.Rows, p.StoreRows, p.Keys)
	case len(p.Key) == 0 || len(p.KeyTypes) != len(p.Key):
		return nil, fmt.Errorf("%w: %s: key %v with types %v", ErrDupsPartial, name, p.Key, p.KeyTypes)
	}
	return d, nil
}

// next reads the next record; false after the last, when the file's
// digest and sums have been checked.
func (d *dupsReader) next() (bool, error) {
	if d.read == d.p.Keys {
		if n, _ := d.r.Read(make([]byte, 1)); n > 0 {
			return false, fmt.Errorf("%w: %s: bytes past its %d records", ErrDupsPartial, d.name, d.p.Keys)
		}
		switch {
		case hex.EncodeToString(d.sum.Sum(nil)) != d.p.Digest:
			return false, fmt.Errorf("%w: %s: its records do not match their digest (a damaged or truncated file)", ErrDupsPartial, d.name)
		case d.rows != int64(d.p.Rows):
			return false, fmt.Errorf("%w: %s: its keys count %d rows, its header %d", ErrDupsPartial, d.name, d.rows, d.p.Rows)
		}
		return false, nil
	}
	var b [dupsRecord]byte
	if _, err := io.ReadFull(d.r, b[:]); err != nil {
		return false, fmt.Errorf("%w: %s: record %d of %d: %v (a truncated file)", ErrDupsPartial, d.name, d.read+1, d.p.Keys, err)
	}
	d.sum.Write(b[:])
	h := [16]byte(b[:16])
	if d.read > 0 && bytes.Compare(h[:], d.h[:]) <= 0 {
		return false, fmt.Errorf("%w: %s: record %d is out of order", ErrDupsPartial, d.name, d.read+1)
	}
	d.h, d.n, d.first = h, binary.LittleEndian.Uint32(b[16:]), binary.LittleEndian.Uint32(b[20:])
	if d.n == 0 || int(d.first) >= d.p.StoreRows {
		return false, fmt.Errorf("%w: %s: record %d: %d rows from row %d of %d", ErrDupsPartial, d.name, d.read+1, d.n, d.first, d.p.StoreRows)
	}
	d.read++
	d.rows += int64(d.n)
	return true, nil
}

// ReadDupsPartial reads a dups partial file whole, checking its records as
// MergeDups does, and returns its header: whether a file written before
// is complete and valid (laiondb dups --skip-done).
func ReadDupsPartial(name string, r io.Reader) (*DupsPartial, error) {
	d, err := openDups(name, r)
	if err != nil {
		return nil, err
	}
	for {
		ok, err := d.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			return &d.p, nil
		}
	}
}

// DupsFile is a dups partial file to merge: its name, for errors, and its
// content.
type DupsFile struct {
	Name string
	R    io.Reader
}

// MergeDups merges the dups partial files of every shard of a dataset into
// the report Duplicates gives on the store of all the shards' rows, with
// the fingerprint of their union. It refuses files of different keys,
// key types or predicates, of different shard counts or formats, a shard
// given twice and a missing shard, naming them, and any file whose records
// are out of order, do not add up or do not match their digest.
func MergeDups(files []DupsFile) (*DupsReport, error) {
	if len(files) == 0 {
		return nil, fmt.Errorf("%w: nothing to merge", ErrDupsPartial)
	}
	var rs []*dupsReader
	for _, f := range files {
		d, err := openDups(f.Name, f.R)
		if err != nil {
			return nil, err
		}
		rs = append(rs, d)
	}
	slices.SortStableFunc(rs, func(a, b *dupsReader) int { return cmp.Compare(a.p.Shard, b.p.Shard) })
	first := &rs[0].p
	var fps []string
	var storeRows, rows int64
	for i, d := range rs {
		p := &d.p
		switch {
		case !slices.Equal(p.Key, first.Key) || !slices.Equal(p.KeyTypes, first.KeyTypes):
			return nil, fmt.Errorf("%w: %s counts keys %v (%v), %s %v (%v)", ErrDupsPartial, d.name, p.Key, p.KeyTypes, rs[0].name, first.Key, first.KeyTypes)
		case p.Where != first.Where:
			return nil, fmt.Errorf("%w: %s counts the rows where %q, %s where %q", ErrDupsPartial, d.name, p.Where, rs[0].name, first.Where)
		case p.Shards != first.Shards:
			return nil, fmt.Errorf("%w: %s is shard %d of %d, %s shard %d of %d", ErrDupsPartial, d.name, p.Shard, p.Shards, rs[0].name, first.Shard, first.Shards)
		case i > 0 && p.Shard == rs[i-1].p.Shard:
			return nil, fmt.Errorf("%w: shard %d of %d given twice (%s and %s)", ErrDupsPartial, p.Shard, p.Shards, rs[i-1].name, d.name)
		}
		d.off = storeRows
		storeRows += int64(p.StoreRows)
		rows += int64(p.Rows)
		fps = append(fps, p.Fingerprint)
	}
	if len(rs) != first.Shards {
		var missing []string
		for k := 1; k <= first.Shards; k++ {
			if !slices.ContainsFunc(rs, func(d *dupsReader) bool { return d.p.Shard == k }) {
				missing = append(missing, fmt.Sprint(k))
			}
		}
		return nil, fmt.Errorf("%w: %d of %d shards given; missing: %s (a merge of some shards would count fewer rows than the dataset holds)", ErrDupsPartial, len(rs), first.Shards, strings.Join(missing, ", "))
	}
	if storeRows > 1<<32 {
		return nil, fmt.Errorf("%w: the shards hold %d rows, more than one store numbers (2^32)", ErrDupsPartial, storeRows)
	}
	// The shards by their current record's key, and of equal keys the
	// lowest shard first, whose rows come first: its first row is the
	// key's.
	var h heap.Heap[*dupsReader, byKey]
	for _, d := range rs {
		ok, err := d.next()
		if err != nil {
			return nil, err
		}
		if ok {
			h.Push(d)
		}
	}
	var g groupCounter
	keys := 0
	for len(h) > 0 {
		low := h[0].h
		var n int64
		first := int64(-1)
		for len(h) > 0 && h[0].h == low {
			d := h[0]
			n += int64(d.n)
			if first < 0 {
				first = d.off + int64(d.first)
			}
			ok, err := d.next()
			if err != nil {
				return nil, err
			}
			if ok {
				h.Replace(d)
			} else {
				h.Pop()
			}
		}
		keys++
		if n > 1 {
			g.add(Group{Rows: int(n), First: uint32(first)})
		}
	}
	return &DupsReport{Key: first.Key, Fingerprint: engine.UnionFingerprint(fps), StoreRows: int(storeRows), Rows: int(rows),
		Where: first.Where, Keys: keys, GroupStats: g.stats()}, nil
}

// byKey orders shards' readers by their current key, then by shard.
type byKey struct{}

func (byKey) Before(a, b *dupsReader) bool {
	if c := bytes.Compare(a.h[:], b.h[:]); c != 0 {
		return c < 0
	}
	return a.p.Shard < b.p.Shard
}

// groupCounter computes GroupStats one group at a time, as summarize does
// from all of them, in memory of the histogram and the largest groups.
type groupCounter struct {
	st   GroupStats
	hist map[int]int
}

func (c *groupCounter) add(gr Group) {
	if c.hist == nil {
		c.hist = map[int]int{}
	}
	c.st.Groups++
	c.st.Duplicates += gr.Rows - 1
	c.hist[gr.Rows]++
	l := c.st.Largest
	i := sort.Search(len(l), func(i int) bool {
		return l[i].Rows < gr.Rows || l[i].Rows == gr.Rows && l[i].First > gr.First
	})
	if i < 10 {
		l = slices.Insert(l, i, gr)
		c.st.Largest = l[:min(10, len(l))]
	}
}

func (c *groupCounter) stats() GroupStats {
	st := c.st
	st.Sizes = []GroupSize{}
	for size, n := range c.hist {
		st.Sizes = append(st.Sizes, GroupSize{size, n})
	}
	sort.Slice(st.Sizes, func(i, j int) bool { return st.Sizes[i].Size < st.Sizes[j].Size })
	if st.Largest == nil {
		st.Largest = []Group{}
	}
	return st
}
