package db

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"

	"github.com/laiondb/laiondb/internal/atomicfile"
)

// Column blocks live in Badger databases that never change once committed:
// each ingested segment is written into a new database under meta/, which
// the ingest closes before it commits the manifest. So a process reading
// the store opens the committed databases read-only (Badger's shared lock)
// while a writer, in another process, writes the next segment's database.
// Stores written before format version 2 keep their segments in one
// database, badger/, which later ingests leave as it is.

// metaDir is the subdirectory holding the segments' databases.
const metaDir = "meta"

// legacyMeta names the single database of format-1 stores.
const legacyMeta = "badger"

// metaName returns the database (a path relative to the store) holding a
// segment's blocks.
func (s *Segment) metaName() string {
	if s.Meta == "" {
		return legacyMeta
	}
	return s.Meta
}

// newMetaName is the database a new segment is written into.
func newMetaName(seg uint32) string {
	return fmt.Sprintf("%s/s%08d", metaDir, seg)
}

// badgerOptions are the options of every metadata database.
func (d *DB) badgerOptions(path string, readOnly bool) badger.Options {
	return badger.DefaultOptions(path).
		WithLogger(badgerLogger{d.opts.Logger}).
		WithReadOnly(readOnly).
		WithValueThreshold(4 << 10).
		WithNumVersionsToKeep(1).
		WithDetectConflicts(false).
		WithMetricsEnabled(false).
		WithBlockCacheSize(16 << 20).
		WithChecksumVerificationMode(options.OnTableRead)
}

// openMeta opens a committed metadata database read-only. A database
// whose last writer was killed (only possible for a format-1 store's
// badger/) needs its log replayed first: a read-write store does that with
// a brief read-write open; a read-only one reports errNeedsRecovery.
func (d *DB) openMeta(name string) (*badger.DB, error) {
	path := filepath.Join(d.dir, filepath.FromSlash(name))
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("%w: %s: the manifest lists %s, which is missing: %v", ErrCorrupt, d.dir, name, err)
	}
	bdb, err := badger.Open(d.badgerOptions(path, true))
	if err == nil {
		return bdb, nil
	}
	if d.opts.ReadOnly {
		return nil, fmt.Errorf("db: opening metadata %s in %s read-only: %w: %v", name, d.dir, errNeedsRecovery, err)
	}
	if err := removeEmptyLogs(path); err != nil {
		return nil, err
	}
	w, err := badger.Open(d.badgerOptions(path, false))
	if err != nil {
		return nil, fmt.Errorf("db: opening metadata %s in %s: %w", name, d.dir, err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("db: recovering metadata %s in %s: %w", name, d.dir, err)
	}
	bdb, err = badger.Open(d.badgerOptions(path, true))
	if err != nil {
		return nil, fmt.Errorf("db: opening metadata %s in %s: %w", name, d.dir, err)
	}
	return bdb, nil
}

// openMetas opens every database the manifest's segments use.
func (d *DB) openMetas(m *Manifest) (map[string]*badger.DB, error) {
	out := map[string]*badger.DB{}
	for i := range m.Segments {
		name := m.Segments[i].metaName()
		if out[name] != nil {
			continue
		}
		bdb, err := d.openMeta(name)
		if err != nil {
			closeMetas(out)
			if cur, rerr := readManifest(d.dir); d.opts.ReadOnly && rerr == nil && cur.Checksum != m.Checksum {
				return nil, fmt.Errorf("%w: %v", errMoved, err)
			}
			return nil, err
		}
		out[name] = bdb
	}
	return out, nil
}

func closeMetas(ms map[string]*badger.DB) error {
	var errs []error
	for _, bdb := range ms {
		errs = append(errs, bdb.Close())
	}
	return errors.Join(errs...)
}

// createMeta makes a new, empty database for a segment's blocks, removing
// what an interrupted ingest may have left under that name.
func (d *DB) createMeta(name string) (*badger.DB, error) {
	path := filepath.Join(d.dir, filepath.FromSlash(name))
	if err := os.RemoveAll(path); err != nil {
		return nil, fmt.Errorf("db: %w", err)
	}
	if err := os.MkdirAll(path, 0o755); err != nil {
		return nil, fmt.Errorf("db: %w", err)
	}
	bdb, err := badger.Open(d.badgerOptions(path, false))
	if err != nil {
		return nil, fmt.Errorf("db: creating metadata %s in %s: %w", name, d.dir, err)
	}
	return bdb, nil
}

// pendingMeta is a metadata database being written: created empty, filled
// through w, then sealed (closed, which syncs it, and reopened read-only as
// r) before the manifest that lists it is committed; discarded on failure.
type pendingMeta struct {
	name string
	w, r *badger.DB
}

// beginMeta creates the database name for writing.
func (d *DB) beginMeta(name string) (*pendingMeta, error) {
	w, err := d.createMeta(name)
	if err != nil {
		return nil, err
	}
	return &pendingMeta{name: name, w: w}, nil
}

// seal closes the written database and opens it read-only.
func (d *DB) seal(p *pendingMeta) error {
	err := p.w.Close()
	p.w = nil
	if err == nil {
		err = atomicfile.SyncDir(filepath.Join(d.dir, metaDir))
	}
	if err != nil {
		return fmt.Errorf("db: syncing metadata %s: %w", p.name, err)
	}
	p.r, err = d.openMeta(p.name)
	return err
}

// discard closes the database and removes it.
func (d *DB) discard(p *pendingMeta) {
	if p.w != nil {
		p.w.Close()
	}
	if p.r != nil {
		p.r.Close()
	}
	os.RemoveAll(filepath.Join(d.dir, filepath.FromSlash(p.name)))
}

// removeUnlisted deletes the metadata databases no segment of m uses: those
// of interrupted ingests. A database some reader still has open (it holds
// Badger's shared lock) is left for a later writer.
func (d *DB) removeUnlisted(m *Manifest) error {
	used := map[string]bool{}
	for i := range m.Segments {
		used[m.Segments[i].metaName()] = true
	}
	var cands []string
	ents, err := os.ReadDir(filepath.Join(d.dir, metaDir))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("db: %w", err)
	}
	for _, e := range ents {
		cands = append(cands, metaDir+"/"+e.Name())
	}
	if _, err := os.Stat(filepath.Join(d.dir, legacyMeta)); err == nil {
		cands = append(cands, legacyMeta)
	}
	for _, name := range cands {
		if used[name] {
			continue
		}
		if err := removeIfUnused(filepath.Join(d.dir, filepath.FromSlash(name))); err != nil {
			return fmt.Errorf("db: removing %s, left by an interrupted ingest: %w", name, err)
		}
	}
	return nil
}

// removeIfUnused removes a Badger directory unless a process has it open:
// Badger flocks the directory itself, shared for a read-only open.
func removeIfUnused(path string) error {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil // in use; a later writer removes it
		}
		return err
	}
	// Move it out of the way first, so a half-done removal is never taken
	// for a database.
	trash := path + ".tmp"
	if err := os.Rename(path, trash); err != nil {
		return err
	}
	return os.RemoveAll(trash)
}

// isMetaEntry reports whether a name in the store directory belongs to the
// metadata databases.
func isMetaEntry(n string) bool {
	return n == metaDir || n == legacyMeta || strings.HasPrefix(n, metaDir+"/")
}

// mergedMetaName is the database that the blocks of segments first..last
// are merged into.
func mergedMetaName(first, last uint32) string {
	return fmt.Sprintf("%s/s%08d-%08d", metaDir, first, last)
}

// metaGroup is a run of consecutive segments sharing one database.
type metaGroup struct {
	name        string
	first, last int // segment indexes, inclusive
	rows        int64
}

// metaGroups lists the databases of m's segments in segment order.
func metaGroups(m *Manifest) []metaGroup {
	var gs []metaGroup
	for i := range m.Segments {
		s := &m.Segments[i]
		if n := len(gs); n > 0 && gs[n-1].name == s.metaName() {
			gs[n-1].last = i
			gs[n-1].rows += s.Rows
			continue
		}
		gs = append(gs, metaGroup{name: s.metaName(), first: i, last: i, rows: s.Rows})
	}
	return gs
}

// mergeRun chooses the databases to merge: the newest ones, as far back as
// each older database holds no more rows than the newer ones together. An
// ingest of many files thus ends with one database, and a store that grows
// by one file at a time keeps a logarithmic number of them (sizes as in a
// binary counter), each row being copied a logarithmic number of times.
// format-1 stores' badger/ is never merged.
func mergeRun(gs []metaGroup) []metaGroup {
	n := len(gs)
	if n < 2 {
		return nil
	}
	i, sum := n-1, gs[n-1].rows
	for i > 0 && gs[i-1].name != legacyMeta && gs[i-1].rows <= sum {
		i--
		sum += gs[i].rows
	}
	if i == n-1 {
		return nil
	}
	return gs[i:]
}

// mergeMetas merges the newest metadata databases as mergeRun chooses and
// commits a manifest that points their segments to the merged one. The
// databases merged away stay open (for views that use them) until Close,
// which removes them unless another process still reads them.
func (d *DB) mergeMetas(ctx context.Context) error {
	m, err := d.snapshot()
	if err != nil {
		return err
	}
	run := mergeRun(metaGroups(m))
	if run == nil {
		return nil
	}
	first, last := run[0].first, run[len(run)-1].last
	name := mergedMetaName(m.Segments[first].ID, m.Segments[last].ID)
	d.mu.RLock()
	metas := d.metas
	d.mu.RUnlock()
	pm, err := d.beginMeta(name)
	if err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			d.discard(pm)
		}
	}()
	wb := newBlockBatch(pm.w)
	defer wb.Cancel()
	for _, g := range run {
		src := metas[g.name]
		if src == nil {
			return fmt.Errorf("db: merging metadata: %s is not open", g.name)
		}
		err := src.View(func(txn *badger.Txn) error {
			it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, PrefetchSize: 16})
			defer it.Close()
			for it.Rewind(); it.Valid(); it.Next() {
				if err := ctx.Err(); err != nil {
					return err
				}
				item := it.Item()
				v, err := item.ValueCopy(nil)
				if err != nil {
					return err
				}
				if err := wb.Set(item.KeyCopy(nil), v); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("db: merging metadata %s: %w", g.name, err)
		}
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("db: merging metadata: %w", err)
	}
	if err := d.seal(pm); err != nil {
		return err
	}
	next := m.clone()
	for i := first; i <= last; i++ {
		next.Segments[i].Meta = name
	}
	if err := writeManifest(d.dir, next); err != nil {
		return fmt.Errorf("db: committing merged metadata: %w", err)
	}
	ok = true
	d.mu.Lock()
	nm := maps.Clone(d.metas)
	nm[name] = pm.r
	d.metas = nm
	d.man = next
	d.mu.Unlock()
	return nil
}
