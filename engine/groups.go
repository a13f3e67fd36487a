package engine

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"

	"github.com/cespare/xxhash/v2"
)

// The groups of "by" over a column with many distinct values (a URL per
// row) do not fit in memory at LAION's scale: 100M URLs held as a map
// take tens of gigabytes. A counter with a spill (Options.GroupBytes)
// writes its values and counts to a temporary file, split into
// spillParts partitions by a hash of the value, whenever the values it
// holds pass its share of the budget, and starts again. At the end each
// partition is counted on its own, from every file and what is still in
// memory: a value's rows all land in one partition, so every count is
// exact, and memory holds one partition's distinct values at a time.
// Only the Options.Groups most frequent values are listed; the others are
// summed (LabelCounts.Groups, OtherRows).

// spillParts is the number of partitions of a spill file.
const spillParts = 64

// entryBytes is the memory a distinct value costs beyond its bytes: its
// map entry, key slice entry and count.
const entryBytes = 96

// DefaultGroups is the number of values a "by" lists when Options.Groups
// is 0; DefaultGroupBytes is Options.GroupBytes's default.
const (
	DefaultGroups     = 1000
	DefaultGroupBytes = 1 << 30
)

// spill is where one counter writes its values when they pass budget.
type spill struct {
	budget  int64  // bytes of values held before writing them out
	dir     string // where the temporary directory goes ("": os.TempDir)
	tmp     string // the temporary directory, once made
	cleanup runtime.Cleanup
	files   []spillFile
	// merged are the spills whose files this one took over: kept
	// reachable, so that their directories stay until remove.
	merged []*spill
	err    error // the first error; the statistic then fails
}

// spillFile is one file of values and counts, its partitions one after
// the other: partition p is the bytes [off[p], off[p+1]).
type spillFile struct {
	path string
	off  [spillParts + 1]int64
}

// newSpill returns the spill of one of a plan's counters: each goroutine
// of a scan holds its own, so the budget is shared among GOMAXPROCS.
// A nil o takes the defaults.
func newSpill(o *Options) *spill {
	if o == nil {
		o = &Options{}
	}
	b := o.GroupBytes
	if b <= 0 {
		b = DefaultGroupBytes
	}
	return &spill{budget: max(b/int64(runtime.GOMAXPROCS(0)), 1), dir: o.TempDir}
}

func partOf(v string) int { return int(xxhash.Sum64String(v) % spillParts) }

// write writes the counter's values and counts to a new file and empties
// it (the null count stays).
func (sp *spill) write(ct *counter) {
	if sp.err != nil || len(ct.keys) == 0 {
		ct.reset()
		return
	}
	if sp.tmp == "" {
		d, err := os.MkdirTemp(sp.dir, "laiondb-by-")
		if err != nil {
			sp.err = fmt.Errorf("by: a directory for the groups that do not fit in memory: %w", err)
			ct.reset()
			return
		}
		sp.tmp = d
		// A query that fails before writing its statistics leaves its
		// files to the collector.
		sp.cleanup = runtime.AddCleanup(sp, func(d string) { os.RemoveAll(d) }, d)
	}
	f, err := os.CreateTemp(sp.tmp, "spill-")
	if err != nil {
		sp.err = fmt.Errorf("by: %w", err)
		ct.reset()
		return
	}
	parts := make([][]int, spillParts)
	for id, k := range ct.keys {
		p := partOf(k)
		parts[p] = append(parts[p], id)
	}
	sf := spillFile{path: f.Name()}
	w := bufio.NewWriterSize(f, 256<<10)
	var n int64
	var buf [2 * binary.MaxVarintLen64]byte
	for p, ids := range parts {
		sf.off[p] = n
		for _, id := range ids {
			k := ct.keys[id]
			m := binary.PutUvarint(buf[:], uint64(len(k)))
			w.Write(buf[:m])
			w.WriteString(k)
			m2 := binary.PutUvarint(buf[:], uint64(ct.counts[id]))
			w.Write(buf[:m2])
			n += int64(m + len(k) + m2)
		}
	}
	sf.off[spillParts] = n
	if err := w.Flush(); err != nil {
		f.Close()
		sp.err = fmt.Errorf("by: writing %s: %w", f.Name(), err)
	} else if err := f.Close(); err != nil {
		sp.err = fmt.Errorf("by: writing %s: %w", f.Name(), err)
	}
	sp.files = append(sp.files, sf)
	ct.reset()
}

// merge takes over o's files.
func (sp *spill) merge(o *spill) {
	sp.files = append(sp.files, o.files...)
	sp.merged = append(sp.merged, o)
	if sp.err == nil {
		sp.err = o.err
	}
	o.files = nil
}

// remove deletes the temporary directories, this spill's and those of the
// spills it took over.
func (sp *spill) remove() {
	for _, o := range sp.merged {
		o.remove()
	}
	if sp.tmp != "" {
		os.RemoveAll(sp.tmp)
		sp.cleanup.Stop()
	}
	sp.tmp, sp.files, sp.merged = "", nil, nil
}

// partReader reads the partitions of spill files.
type partReader struct {
	r   *bufio.Reader
	key []byte
}

// read adds the values and counts of partition p of f to ct.
func (pr *partReader) read(f spillFile, p int, ct *counter) error {
	if f.off[p] == f.off[p+1] {
		return nil
	}
	fh, err := os.Open(f.path)
	if err != nil {
		return fmt.Errorf("by: %w", err)
	}
	defer fh.Close()
	sec := io.NewSectionReader(fh, f.off[p], f.off[p+1]-f.off[p])
	if pr.r == nil {
		pr.r = bufio.NewReaderSize(sec, 64<<10)
	} else {
		pr.r.Reset(sec)
	}
	r, key := pr.r, pr.key
	defer func() { pr.key = key }()
	for {
		kl, err := binary.ReadUvarint(r)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("by: reading %s: %w", f.path, err)
		}
		if kl > 1<<30 {
			return fmt.Errorf("by: reading %s: a value of %d bytes: the file is damaged", f.path, kl)
		}
		if uint64(cap(key)) < kl {
			key = make([]byte, kl)
		}
		key = key[:kl]
		if _, err := io.ReadFull(r, key); err != nil {
			return fmt.Errorf("by: reading %s: %w", f.path, err)
		}
		c, err := binary.ReadUvarint(r)
		if err != nil {
			return fmt.Errorf("by: reading %s: %w", f.path, err)
		}
		ct.counts[ct.id(key)] += int(c)
	}
}

// top returns the limit most frequent values of ct and its spill files
// (ties by value), with the number of distinct values and the rows of
// those not returned. It counts one partition at a time.
func top(ct *counter, sp *spill, limit int) (keys []string, counts []int, groups, other int, err error) {
	if sp == nil || len(sp.files) == 0 {
		ids := ct.order()
		for i, id := range ids {
			if i < limit {
				keys = append(keys, ct.keys[id])
				counts = append(counts, ct.counts[id])
			} else {
				other += ct.counts[id]
			}
		}
		return keys, counts, len(ids), other, nil
	}
	// What is still in memory goes to its partitions too.
	rest := make([][]int, spillParts)
	for id, k := range ct.keys {
		p := partOf(k)
		rest[p] = append(rest[p], id)
	}
	type kc struct {
		k string
		c int
	}
	var best []kc // at most limit, most frequent first
	worse := func(a, b kc) bool { return a.c < b.c || a.c == b.c && a.k > b.k }
	part := &counter{}
	var pr partReader
	total := 0
	for p := range spillParts {
		part.reset()
		for _, f := range sp.files {
			if err := pr.read(f, p, part); err != nil {
				return nil, nil, 0, 0, err
			}
		}
		for _, id := range rest[p] {
			part.counts[part.id([]byte(ct.keys[id]))] += ct.counts[id]
		}
		groups += len(part.keys)
		for id, k := range part.keys {
			c := part.counts[id]
			total += c
			x := kc{k, c}
			if len(best) == limit && (limit == 0 || !worse(best[len(best)-1], x)) {
				continue
			}
			i := sort.Search(len(best), func(i int) bool { return worse(best[i], x) })
			if len(best) < limit {
				best = append(best, kc{})
			}
			copy(best[i+1:], best[i:len(best)-1])
			best[i] = x
		}
	}
	shown := 0
	for _, x := range best {
		keys = append(keys, x.k)
		counts = append(counts, x.c)
		shown += x.c
	}
	return keys, counts, groups, total - shown, nil
}
