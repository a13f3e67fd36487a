package audit

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/query"
	"github.com/laiondb/laiondb/vector"
)

// Near-duplicates across shards.
//
// NearDuplicates (exact) needs every pair of rows scored. A dataset held
// as M shards finds its pairs in M(M+1)/2 tasks: task (K, K) the pairs
// within shard K, task (K, J) for K < J the pairs of a row of shard K and
// a row of shard J, scored from the row of K (the lower row of the pair,
// as one store scores it) over the union of the two stores, with the
// pairs just below the threshold rescored from the other row as one store
// rescores them (WriteNearPartial). Each task writes its pairs to a
// file; MergeNear joins them into groups, the connected components of all
// the pairs, and gives the report of the store of all the shards. The
// groups, pairs and counts equal one store's; Scored, the scores computed,
// counts this way of cutting the work, and the plan says so.
//
// A file is the line "laiondb near partial", a line of JSON
// (NearPartial), then NearPartial.Pairs records of 8 bytes: the pair's row
// in shard Shard and its row in shard With (little-endian uint32 each),
// ascending. The header's digest covers the records.

// NearPartialFormat is the version of the file WriteNearPartial writes
// and MergeNear reads.
const NearPartialFormat = 1

// nearMagic starts every near partial file, before its header.
const nearMagic = "laiondb near partial\n"

// NearPartial is the header of a near partial file: the pairs between the
// rows of shard Shard and those of shard With (With >= Shard; equal: the
// pairs within the shard).
type NearPartial struct {
	Format    int     `json:"format"`
	Version   string  `json:"laiondb_version"`
	Space     string  `json:"space"`
	Threshold float64 `json:"threshold"`
	// Where is NearOptions.Where, the same in every task.
	Where  string `json:"where,omitempty"`
	Shards int    `json:"shards"`
	Shard  int    `json:"shard"`
	With   int    `json:"with"`
	// Fingerprint and StoreRows are shard Shard's store's, WithFingerprint
	// and WithRows shard With's.
	Fingerprint     string `json:"fingerprint"`
	StoreRows       int    `json:"store_rows"`
	WithFingerprint string `json:"with_fingerprint"`
	WithRows        int    `json:"with_rows"`
	// Rows, in a task within a shard, are the rows considered: selected,
	// with an embedding.
	Rows int `json:"rows"`
	// Pairs is the number of records that follow; NearThreshold and
	// Scored count as NearReport's do, for this task's pairs.
	Pairs         int64 `json:"pairs"`
	NearThreshold int64 `json:"near_threshold"`
	Scored        int64 `json:"scored"`
	// Digest is the SHA-256 of the records, in hex.
	Digest string `json:"records_sha256"`
}

// WriteNearPartial finds the near-duplicate pairs of one task and writes
// its partial file to w. For a task within shard K (with == shard), s is
// K's store; for a task between shards K < J (with == J), s is the union
// of K's store and J's, in that order (engine.NewUnion), and split the
// rows of K's. Options are NearDuplicates' (o.Selection numbers the rows
// of s), with the exact method only: the index method's answers depend on
// each store's index, and would not merge into one store's.
func WriteNearPartial(ctx context.Context, w io.Writer, s engine.Store, o *NearOptions, shard, with, shards, split int, fp, withFP string) (*NearPartial, error) {
	opts, err := nearDefaults(o)
	if err != nil {
		return nil, err
	}
	n := s.NumRows()
	switch {
	case opts.Method == NearIndex:
		return nil, fmt.Errorf("%w: near-duplicates across shards are found by the exact method only: each store's index would answer otherwise than one store's", ErrDupsPartial)
	case opts.KeepRows:
		return nil, fmt.Errorf("%w: the rows a dedup drops depend on every shard's rows", ErrDupsPartial)
	case shards < 1 || shard < 1 || shard > shards || with < shard || with > shards:
		return nil, fmt.Errorf("%w: the task of shards %d and %d of %d: want 1 <= shard <= with <= shards", ErrDupsPartial, shard, with, shards)
	case with == shard && split != n || with > shard && (split < 0 || split > n):
		return nil, fmt.Errorf("%w: shard %d's %d rows among the %d given", ErrDupsPartial, shard, split, n)
	}
	sel := s.VectorRows(opts.Space)
	if opts.Selection != nil {
		sel.And(opts.Selection)
	}
	var lower, upper []uint32 // the rows of shard Shard, and of shard With
	sel.ForEach(func(r uint32) bool {
		if int(r) < split {
			lower = append(lower, r)
		} else {
			upper = append(upper, r)
		}
		return true
	})
	p := &NearPartial{Format: NearPartialFormat, Version: moduleVersion(), Space: opts.Space.String(), Threshold: opts.Threshold,
		Where: opts.Where, Shards: shards, Shard: shard, With: with, Fingerprint: fp, StoreRows: split, WithFingerprint: withFP, WithRows: n - split}
	if with == shard {
		p.WithRows = split
	}
	var pairs [][2]uint32
	if len(lower) > 0 && (with == shard || len(upper) > 0) {
		np := &nearPass{s: s, sp: opts.Space, t: float32(opts.Threshold), sel: sel}
		if err := np.setBlock(ctx, lower[0], sel.Count()); err != nil {
			return nil, err
		}
		pair := func(a, b uint32) { pairs = append(pairs, [2]uint32{min(a, b), max(a, b)}) }
		if with == shard {
			p.Rows = len(lower)
			p.NearThreshold, err = np.pairs(ctx, lower, nil, true, pair)
		} else {
			allow := vector.NewBitset(n)
			for _, r := range upper {
				allow.Set(r)
			}
			p.NearThreshold, err = np.pairs(ctx, lower, allow, false, pair)
		}
		if err != nil {
			return nil, err
		}
		p.Scored = np.scored
	} else if with == shard {
		p.Rows = len(lower)
	}
	slices.SortFunc(pairs, func(x, y [2]uint32) int { return cmp.Or(cmp.Compare(x[0], y[0]), cmp.Compare(x[1], y[1])) })
	pairs = slices.Compact(pairs)
	sum := sha256.New()
	b := make([]byte, 0, 8)
	record := func(pr [2]uint32) []byte {
		b = binary.LittleEndian.AppendUint32(b[:0], pr[0])
		if with > shard {
			pr[1] -= uint32(split) // a row of shard With, numbered in it
		}
		return binary.LittleEndian.AppendUint32(b, pr[1])
	}
	for _, pr := range pairs {
		sum.Write(record(pr))
	}
	p.Pairs, p.Digest = int64(len(pairs)), hex.EncodeToString(sum.Sum(nil))
	bw := bufio.NewWriter(w)
	if err := writeHeader(bw, nearMagic, p); err != nil {
		return nil, err
	}
	for _, pr := range pairs {
		if _, err := bw.Write(record(pr)); err != nil {
			return nil, err
		}
	}
	if err := bw.Flush(); err != nil {
		return nil, err
	}
	return p, nil
}

// IsNearPartial reports whether b (a file's first bytes) starts a near
// partial file.
func IsNearPartial(b []byte) bool { return bytes.HasPrefix(b, []byte(nearMagic)) }

// nearFile is a near partial file read whole: its header and pairs.
type nearFile struct {
	p     NearPartial
	pairs [][2]uint32
}

// readNear reads and checks a near partial file: its header, its records
// (ascending, within the shards' rows) and their digest.
func readNear(name string, r io.Reader) (*nearFile, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	f := &nearFile{}
	if err := readHeader(br, name, nearMagic, "a near-duplicate partial result (laiondb dups --near --partial writes them)", &f.p); err != nil {
		return nil, err
	}
	p := &f.p
	switch {
	case p.Format != NearPartialFormat:
		return nil, fmt.Errorf("%w: %s: format %d, this laiondb reads format %d (written by laiondb %s): write it again with this laiondb", ErrDupsPartial, name, p.Format, NearPartialFormat, p.Version)
	case p.Shards < 1 || p.Shard < 1 || p.With < p.Shard || p.With > p.Shards:
		return nil, fmt.Errorf("%w: %s: the task of shards %d and %d of %d cannot be", ErrDupsPartial, name, p.Shard, p.With, p.Shards)
	case p.StoreRows < 0 || p.WithRows < 0 || p.Rows < 0 || p.Rows > p.StoreRows || p.Pairs < 0 || p.Pairs > math.MaxInt32:
		return nil, fmt.Errorf("%w: %s: %d pairs among %d and %d rows cannot be", ErrDupsPartial, name, p.Pairs, p.StoreRows, p.WithRows)
	}
	sum := sha256.New()
	var b [8]byte
	f.pairs = make([][2]uint32, 0, min(p.Pairs, 1<<20))
	for i := range p.Pairs {
		if _, err := io.ReadFull(br, b[:]); err != nil {
			return nil, fmt.Errorf("%w: %s: pair %d of %d: %v (a truncated file)", ErrDupsPartial, name, i+1, p.Pairs, err)
		}
		sum.Write(b[:])
		pr := [2]uint32{binary.LittleEndian.Uint32(b[:]), binary.LittleEndian.Uint32(b[4:])}
		switch {
		case int(pr[0]) >= p.StoreRows || int(pr[1]) >= p.WithRows || p.With == p.Shard && pr[0] >= pr[1]:
			return nil, fmt.Errorf("%w: %s: pair %d joins rows %d and %d, outside the shards' %d and %d rows", ErrDupsPartial, name, i+1, pr[0], pr[1], p.StoreRows, p.WithRows)
		case i > 0 && cmp.Or(cmp.Compare(pr[0], f.pairs[i-1][0]), cmp.Compare(pr[1], f.pairs[i-1][1])) <= 0:
			return nil, fmt.Errorf("%w: %s: pair %d is out of order", ErrDupsPartial, name, i+1)
		}
		f.pairs = append(f.pairs, pr)
	}
	if n, _ := br.Read(b[:1]); n > 0 {
		return nil, fmt.Errorf("%w: %s: bytes past its %d pairs", ErrDupsPartial, name, p.Pairs)
	}
	if hex.EncodeToString(sum.Sum(nil)) != p.Digest {
		return nil, fmt.Errorf("%w: %s: its pairs do not match their digest (a damaged or truncated file)", ErrDupsPartial, name)
	}
	return f, nil
}

// ReadNearPartial reads a near partial file whole, checking it as
// MergeNear does, and returns its header (laiondb dups --skip-done).
func ReadNearPartial(name string, r io.Reader) (*NearPartial, error) {
	f, err := readNear(name, r)
	if err != nil {
		return nil, err
	}
	return &f.p, nil
}

// MergeNear merges the near partial files of every task of a dataset's
// shards (M(M+1)/2 of them for M shards) into the report NearDuplicates
// gives, by the exact method, on the store of all the shards' rows, with
// the fingerprint of their union; Scored is the sum of the tasks'. It
// refuses files of different thresholds, spaces, predicates, shard counts
// or formats, a task given twice or missing, shards whose stores differ
// between tasks, and any damaged file, naming them. KeepRows fills the
// report's Drop and Kept.
func MergeNear(files []DupsFile, keepRows bool) (*NearReport, error) {
	if len(files) == 0 {
		return nil, fmt.Errorf("%w: nothing to merge", ErrDupsPartial)
	}
	var fs []*nearFile
	names := map[[2]int]string{}
	for _, df := range files {
		f, err := readNear(df.Name, df.R)
		if err != nil {
			return nil, err
		}
		fs = append(fs, f)
		p, q := &f.p, &fs[0].p
		switch {
		case p.Shards != q.Shards:
			return nil, fmt.Errorf("%w: %s is a task of %d shards, %s of %d", ErrDupsPartial, df.Name, p.Shards, files[0].Name, q.Shards)
		case p.Space != q.Space || p.Threshold != q.Threshold || p.Where != q.Where:
			return nil, fmt.Errorf("%w: %s compares %s embeddings at %v where %q, %s %s at %v where %q", ErrDupsPartial, df.Name, p.Space, p.Threshold, p.Where, files[0].Name, q.Space, q.Threshold, q.Where)
		}
		task := [2]int{p.Shard, p.With}
		if prev, ok := names[task]; ok {
			return nil, fmt.Errorf("%w: the task of shards %d and %d given twice (%s and %s)", ErrDupsPartial, p.Shard, p.With, prev, df.Name)
		}
		names[task] = df.Name
	}
	m := fs[0].p.Shards
	if len(fs) != m*(m+1)/2 {
		for k := 1; k <= m; k++ {
			for j := k; j <= m; j++ {
				if _, ok := names[[2]int{k, j}]; !ok {
					return nil, fmt.Errorf("%w: %d of the %d tasks of %d shards given; missing: shards %d and %d (a merge without it would miss their pairs)", ErrDupsPartial, len(fs), m*(m+1)/2, m, k, j)
				}
			}
		}
	}
	// Each shard's store, as every task that names it saw it.
	fps, rows := make([]string, m+1), make([]int, m+1)
	for k := range fps {
		rows[k] = -1
	}
	see := func(name string, k int, fp string, n int) error {
		if rows[k] >= 0 && (fps[k] != fp || rows[k] != n) {
			return fmt.Errorf("%w: %s saw shard %d as %d rows (fingerprint %s), another task as %d (%s): every task must read the same shard stores", ErrDupsPartial, name, k, n, fp, rows[k], fps[k])
		}
		fps[k], rows[k] = fp, n
		return nil
	}
	for _, f := range fs {
		p := &f.p
		if err := see(names[[2]int{p.Shard, p.With}], p.Shard, p.Fingerprint, p.StoreRows); err != nil {
			return nil, err
		}
		if err := see(names[[2]int{p.Shard, p.With}], p.With, p.WithFingerprint, p.WithRows); err != nil {
			return nil, err
		}
	}
	off := make([]int64, m+2)
	for k := 1; k <= m; k++ {
		off[k+1] = off[k] + int64(rows[k])
	}
	if off[m+1] > math.MaxUint32 {
		return nil, fmt.Errorf("%w: %d rows in all: rows are numbered in 32 bits", ErrDupsPartial, off[m+1])
	}
	first := &fs[0].p
	r := &NearReport{Fingerprint: engine.UnionFingerprint(fps[1:]), Space: first.Space, Threshold: first.Threshold, Method: NearExact, Exact: true,
		StoreRows: int(off[m+1]), Where: first.Where}
	parent := map[uint32]uint32{}
	find := func(x uint32) uint32 {
		for {
			p, ok := parent[x]
			if !ok || p == x {
				return x
			}
			if gp, ok := parent[p]; ok {
				parent[x] = gp
			}
			x = p
		}
	}
	for _, f := range fs {
		p := &f.p
		if p.Shard == p.With {
			r.Rows += p.Rows
		}
		r.Pairs += p.Pairs
		r.NearThreshold += p.NearThreshold
		r.Scored += p.Scored
		for _, pr := range f.pairs {
			a, b := find(uint32(off[p.Shard]+int64(pr[0]))), find(uint32(off[p.With]+int64(pr[1])))
			if a != b {
				parent[max(a, b)] = min(a, b)
				if _, ok := parent[min(a, b)]; !ok {
					parent[min(a, b)] = min(a, b)
				}
			}
		}
	}
	var members []uint32 // the rows of some pair
	for x := range parent {
		members = append(members, x)
	}
	slices.Sort(members)
	r.setGroups(members, find, keepRows)
	sp := query.SpaceImage
	if first.Space == query.SpaceText.String() {
		sp = query.SpaceText
	}
	r.Plan = []string{
		fmt.Sprintf("rows: %d rows with %s %s embedding, of %d in %d shards", r.Rows, article(sp), first.Space, r.StoreRows, m),
		fmt.Sprintf("method: exact, merged from the pairs of %d tasks: within each shard, and between each two shards from the lower shard's rows (scored: the scores the tasks computed)", len(fs)),
		"pairs: two rows are joined when either row's range search returns the other",
		"groups: the connected components of the pairs; each group's representative, the row a dedup keeps, is its lowest store row",
	}
	if r.Rows == 0 {
		r.Plan = append(r.Plan[:1], "no row to compare")
	}
	return r, nil
}
