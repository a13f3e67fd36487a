package db

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/dgraph-io/badger/v4"
	"github.com/laiondb/laiondb/engine"
)

// Errors returned by the store. They are wrapped with the operation, file
// and row they concern; test for them with errors.Is.
var (
	ErrClosed    = errors.New("db: store is closed")
	ErrLocked    = errors.New("db: store is locked")
	ErrVersion   = errors.New("db: store format is newer than this laiondb")
	ErrCorrupt   = errors.New("db: store is corrupt")
	ErrNotStore  = errors.New("db: not a laiondb store")
	ErrReadOnly  = errors.New("db: store is open read-only")
	ErrDimension = errors.New("db: vector dimension mismatch")
	ErrBadInput  = errors.New("db: bad input file")
	ErrDuplicate = errors.New("db: file already ingested under another name")
	ErrConflict  = errors.New("db: a different file was already ingested under this name")
	ErrNoVectors = errors.New("db: store has no vectors")
	ErrNoModel   = errors.New("db: no CLIP model configured")
	ErrNotFound  = errors.New("db: not found")
	ErrNoIndex   = errors.New("db: no usable vector index")
	ErrNoSpace   = errors.New("db: not enough disk space")
)

// Embedder turns query texts and images into unit-norm CLIP embeddings.
// Package encode's Model implements it; db takes it as an interface so that
// the store itself needs no cgo.
type Embedder interface {
	// Name identifies the model (recorded in the manifest at ingest).
	Name() string
	// Dim is the embedding dimension.
	Dim() int
	EncodeText(ctx context.Context, texts []string) ([][]float32, error)
	EncodeImage(ctx context.Context, paths []string) ([][]float32, error)
}

// Options configure Open. The zero value (or nil) is the default: a
// read-write store, silent.
type Options struct {
	// ReadOnly opens the store for reading only. Any number of readers,
	// in any processes, may have the store open, also while one writer
	// ingests into it: a reader sees the store as the last commit before
	// its Open left it.
	ReadOnly bool
	// Logger receives Badger's messages and laiondb's warnings. Nil means
	// they are discarded.
	Logger *log.Logger
	// Embedder encodes text and image query targets. Nil means text and
	// image targets fail with ErrNoModel.
	Embedder Embedder
	// ExactUpTo is the largest number of candidate vectors (rows with
	// vectors that the filter allows) a k-NN search scans exactly even
	// when the store has an index; 0 means 1,048,576 (exact answers up to
	// a million vectors), negative means the planner chooses every search's
	// path: the faster of the index and a scan of the allowed rows, by the
	// costs the index build measured (see Costs), at the ef calibrated for
	// the search's share of allowed rows. SearchRequest.Index and Exact
	// force either path.
	ExactUpTo int
	// EfSearch is the HNSW candidate list size of searches; 0 means the
	// ef the index build calibrated for the query's kind and k (see
	// Calibration), or max(256, 2k) for an uncalibrated index. Larger is
	// slower and closer to exact.
	EfSearch int
	// Warn, when set, receives warnings about answers that are computed
	// but may not mean what the user thinks (a query model other than the
	// one the store's embeddings came from).
	Warn func(msg string)
	// AllowCacheBytes bounds the allow-lists of searches' where clauses
	// kept for later queries on the same store content (engine.AllowCache);
	// 0 means 64 MiB, negative keeps none.
	AllowCacheBytes int64
	// ColumnCacheBytes bounds the decoded column blocks kept for later
	// scans (a predicate evaluated again reads them from memory); 0 means
	// 256 MiB, negative keeps none.
	ColumnCacheBytes int64
	// IndexMemory bounds, in bytes, the memory the store's vector indexes
	// may hold (IndexInfo.MemoryBytes: an HNSW's graph and codes, an IVF's
	// codes and centres). Open loads the indexes smallest first while they
	// fit; an index that does not is left unloaded, and searches use
	// another index or scan exactly, and say why. 0 means three quarters
	// of the machine's physical memory (no bound where that is unknown);
	// negative means no bound. A build in this process keeps the index it
	// built, whatever the bound.
	IndexMemory int64
	// HugePages opens the HNSW indexes with hnsw.OpenOptions.HugePages,
	// and copies each space's vectors into memory backed by 2 MiB pages
	// when they take between 16 MiB and, with the other space's, a
	// quarter of the physical memory (scans of scattered rows then pay no
	// page walk a row): faster searches, a slower Open and the copies'
	// memory. laiondb serve sets it.
	HugePages bool
}

// DB is an open store. Its methods are safe for concurrent use: queries and
// searches may run while an ingest is in progress and see the store as it
// was before the ingest until the ingest commits. Only one ingest runs at a
// time.
type DB struct {
	dir  string
	opts Options
	lock *os.File

	ingestMu sync.Mutex // serialises ingests
	// verified holds the keys of column blocks whose checksum Fetch has
	// checked; committed blocks never change.
	verified sync.Map

	mu  sync.RWMutex // guards the fields below
	man *Manifest    // immutable; replaced as a whole on commit
	// metas are the open metadata databases by name (Segment.Meta); a
	// database once opened stays open until Close. The map is replaced,
	// never changed, so views may keep it.
	metas map[string]*badger.DB
	img   *vecFile
	txt   *vecFile
	// ixs are the manifest's vector indexes, opened, or why they could
	// not be; the map is replaced, never changed, so views may keep it.
	ixs map[indexKey]openedIndex
	// retired indexes may still serve searches that started before a
	// rebuild replaced them; they are closed with the store.
	retired []VectorIndex
	// tri holds the text index files opened so far.
	tri    trigramFiles
	closed bool
	// allow keeps searches' allow-lists (nil: none kept).
	allow *engine.AllowCache
	// cols keeps decoded column blocks (nil: none kept).
	cols *columnCache
}

// Open opens the store in dir, creating it when dir does not exist or is an
// empty directory. Nil opts means default options.
//
// A writer takes an exclusive lock on the store; a second writer gets
// ErrLocked. Readers take no lock and may open the store while a writer
// ingests. On a read-write open, debris of an interrupted ingest (metadata
// databases and vector bytes beyond what the manifest records) is removed,
// so the store holds only whole files.
func Open(dir string, opts *Options) (*DB, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Logger == nil {
		o.Logger = log.New(io.Discard, "", 0)
	}
	if o.Warn == nil {
		o.Warn = func(string) {}
	}
	d, err := openOnce(dir, o)
	defer func() {
		if d != nil && o.AllowCacheBytes >= 0 {
			d.allow = engine.NewAllowCache(cmp.Or(o.AllowCacheBytes, 64<<20))
		}
		if d != nil && o.ColumnCacheBytes >= 0 {
			d.cols = newColumnCache(cmp.Or(o.ColumnCacheBytes, 256<<20))
		}
	}()
	for try := 0; errors.Is(err, errMoved) && try < 8; try++ {
		// A writer committed (and merged away a database this open
		// was about to read) meanwhile: open the new commit.
		d, err = openOnce(dir, o)
	}
	if errors.Is(err, errNeedsRecovery) {
		// The last writer was interrupted; a read-only open cannot replay
		// its log. Recover with a brief read-write open when no other
		// process has the store, then open read-only again.
		w, werr := openOnce(dir, Options{Logger: o.Logger, Warn: o.Warn})
		if werr != nil {
			return nil, fmt.Errorf("%w (recovering needs the store to itself: %v)", err, werr)
		}
		if werr := w.Close(); werr != nil {
			return nil, werr
		}
		d, err = openOnce(dir, o)
	}
	return d, err
}

// errMoved marks a read-only open that failed because a writer committed a
// new manifest while it opened the databases the old one listed.
var errMoved = errors.New("the store changed while it was opened")

// errNeedsRecovery marks a read-only open that failed because the store
// needs the recovery a read-write open does.
var errNeedsRecovery = errors.New("the store was not closed cleanly")

func openOnce(dir string, o Options) (*DB, error) {
	fresh, err := prepareDir(dir, o.ReadOnly)
	if err != nil {
		return nil, err
	}
	d := &DB{dir: dir, opts: o}
	if err := d.acquireLock(); err != nil {
		return nil, err
	}
	if err := d.open(fresh); err != nil {
		d.release()
		return nil, err
	}
	return d, nil
}

// prepareDir checks that dir is a store or may become one, and reports
// whether it holds no store yet.
func prepareDir(dir string, readOnly bool) (fresh bool, err error) {
	ents, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if readOnly {
			return false, fmt.Errorf("%w: %s does not exist", ErrNotStore, dir)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return false, fmt.Errorf("db: creating store: %w", err)
		}
		return true, nil
	case err != nil:
		return false, fmt.Errorf("db: opening store: %w", err)
	}
	if _, err := os.Stat(filepath.Join(dir, manifestName)); err == nil {
		return false, nil
	}
	for _, e := range ents {
		switch n := e.Name(); {
		case n == "LOCK", isMetaEntry(n), n == "vectors", strings.HasSuffix(n, ".tmp"):
			// An interrupted first ingest leaves these without a manifest.
		default:
			return false, fmt.Errorf("%w: %s has files (%s) but no %s; refusing to use it", ErrNotStore, dir, n, manifestName)
		}
	}
	if readOnly {
		return false, fmt.Errorf("%w: %s has no %s", ErrNotStore, dir, manifestName)
	}
	return true, nil
}

// acquireLock takes the writer's lock, the LOCK file's exclusive flock: one
// writer at a time. Readers take none: they read only what a manifest
// lists, which no writer changes (see meta.go), so they may open the store
// while a writer ingests and see its last commit.
func (d *DB) acquireLock() error {
	if d.opts.ReadOnly {
		return nil
	}
	path := filepath.Join(d.dir, "LOCK")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("db: opening %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return fmt.Errorf("%w: %s is open for writing by another process (one writer at a time; readers may open it meanwhile)", ErrLocked, d.dir)
		}
		return fmt.Errorf("db: locking %s: %w", path, err)
	}
	d.lock = f
	return nil
}

func (d *DB) release() {
	if d.lock != nil {
		d.lock.Close()
		d.lock = nil
	}
}

func (d *DB) open(fresh bool) error {
	var m *Manifest
	if fresh {
		m = &Manifest{FormatVersion: FormatVersion}
	} else {
		var err error
		if m, err = readManifest(d.dir); err != nil {
			return err
		}
	}
	if !d.opts.ReadOnly {
		if err := d.recover(m); err != nil {
			return err
		}
		if fresh {
			if err := writeManifest(d.dir, m); err != nil {
				return fmt.Errorf("db: creating manifest: %w", err)
			}
		}
	}
	metas, err := d.openMetas(m)
	if err != nil {
		return err
	}
	if err := d.openVectors(m); err != nil {
		closeMetas(metas)
		return err
	}
	d.metas = metas
	d.man = m
	d.openIndexes(m)
	return nil
}

// recover removes what an interrupted ingest left behind: metadata
// databases no segment uses, vector bytes beyond the committed rows (see
// openVectors), and temporary files.
func (d *DB) recover(m *Manifest) error {
	ents, _ := os.ReadDir(d.dir)
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".tmp") {
			os.RemoveAll(filepath.Join(d.dir, e.Name()))
		}
	}
	if ents, err := os.ReadDir(filepath.Join(d.dir, metaDir)); err == nil {
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), ".tmp") {
				os.RemoveAll(filepath.Join(d.dir, metaDir, e.Name()))
			}
		}
	}
	if err := d.removeUnlisted(m); err != nil {
		return err
	}
	if err := d.removeUnlistedTrigrams(m); err != nil {
		return err
	}
	if n := len(m.Segments); n > 0 && m.NextSegment <= m.Segments[n-1].ID {
		return fmt.Errorf("%w: %s: next segment id %d not above the last (%d)", ErrCorrupt, d.dir, m.NextSegment, m.Segments[n-1].ID)
	}
	return nil
}

// Close releases the store. It waits for a running ingest or index build
// to finish (cancel its context to stop it early); searches and queries
// must have returned.
func (d *DB) Close() error {
	d.ingestMu.Lock()
	defer d.ingestMu.Unlock()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	var errs []error
	ixs := d.retired
	for _, o := range d.ixs {
		ixs = append(ixs, o.ix)
	}
	for _, ix := range ixs {
		if ix != nil {
			errs = append(errs, ix.Close())
		}
	}
	if d.img != nil {
		errs = append(errs, d.img.close())
	}
	if d.txt != nil {
		errs = append(errs, d.txt.close())
	}
	errs = append(errs, closeMetas(d.metas), d.tri.close())
	if !d.opts.ReadOnly && d.man != nil {
		// Databases merged away while this store was open; readers that
		// still have one open keep it until a later writer.
		errs = append(errs, d.removeUnlisted(d.man))
	}
	d.release()
	return errors.Join(errs...)
}

// SetModel records the name of the CLIP model the store's embeddings came
// from. Queries through a model of another name are warned about.
func (d *DB) SetModel(name string) error {
	if d.opts.ReadOnly {
		return ErrReadOnly
	}
	d.ingestMu.Lock()
	defer d.ingestMu.Unlock()
	m, err := d.snapshot()
	if err != nil {
		return err
	}
	next := m.clone()
	next.Model = name
	if err := writeManifest(d.dir, next); err != nil {
		return fmt.Errorf("db: recording the model: %w", err)
	}
	d.mu.Lock()
	d.man = next
	d.mu.Unlock()
	return nil
}

// Dir returns the store directory.
// Changed reports whether the store on disk has changed since this DB read
// it: another process committed an ingest or an index build. A reader
// that must see such commits (a server) opens the store again when it
// has. The manifest is read and its checksum compared; a manifest being
// replaced at that moment may make it report an error, not a change.
func (d *DB) Changed() (bool, error) {
	d.mu.RLock()
	cur := d.man.Checksum
	d.mu.RUnlock()
	m, err := readManifest(d.dir)
	if err != nil {
		return false, err
	}
	return m.Checksum != cur, nil
}

func (d *DB) Dir() string { return d.dir }

// Manifest returns a copy of the store's current manifest.
func (d *DB) Manifest() (*Manifest, error) {
	m, err := d.snapshot()
	if err != nil {
		return nil, err
	}
	return m.clone(), nil
}

func (d *DB) snapshot() (*Manifest, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return nil, ErrClosed
	}
	return d.man, nil
}

// Fingerprint identifies the store's content: the format, the dimension and
// each ingested file's checksum and rows, in order. Equal fingerprints mean
// equal answers to equal queries.
func (d *DB) Fingerprint() string {
	m, err := d.snapshot()
	if err != nil {
		return ""
	}
	return m.fingerprint()
}

// removeEmptyLogs deletes zero-length Badger log files. A process killed
// just after Badger created one leaves it behind, and Badger v4 then fails
// to open ("Open existing file ... Create a new file"). Such a file holds no
// data and nothing refers to it.
func removeEmptyLogs(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("db: %w", err)
	}
	for _, e := range ents {
		ext := filepath.Ext(e.Name())
		if ext != ".vlog" && ext != ".mem" {
			continue
		}
		if fi, err := e.Info(); err == nil && fi.Size() == 0 {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return fmt.Errorf("db: removing an empty log left by a crash: %w", err)
			}
		}
	}
	return nil
}

// badgerLogger forwards Badger's messages to a standard logger.
type badgerLogger struct{ l *log.Logger }

func (b badgerLogger) Errorf(f string, a ...any)   { b.l.Printf("badger ERROR: "+f, a...) }
func (b badgerLogger) Warningf(f string, a ...any) { b.l.Printf("badger WARNING: "+f, a...) }
func (b badgerLogger) Infof(f string, a ...any)    {}
func (b badgerLogger) Debugf(f string, a ...any)   {}
