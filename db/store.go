package db

import (
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
	"github.com/dgraph-io/badger/v4/options"
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
	// ReadOnly opens the store for reading only; several read-only opens
	// of one store may coexist, but not with a writer.
	ReadOnly bool
	// Logger receives Badger's messages and laiondb's warnings. Nil means
	// they are discarded.
	Logger *log.Logger
	// Embedder encodes text and image query targets. Nil means text and
	// image targets fail with ErrNoModel.
	Embedder Embedder
	// ExactUpTo is the largest number of candidate vectors (rows with
	// vectors that the filter allows) a k-NN search scans exactly even
	// when the store has an index; 0 means 1,048,576, negative means the
	// index answers every search it can.
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
}

// DB is an open store. Its methods are safe for concurrent use: queries and
// searches may run while an ingest is in progress and see the store as it
// was before the ingest until the ingest commits. Only one ingest runs at a
// time.
type DB struct {
	dir  string
	opts Options
	lock *os.File
	bdb  *badger.DB

	ingestMu sync.Mutex // serialises ingests
	// verified holds the keys of column blocks whose checksum Fetch has
	// checked; committed blocks never change.
	verified sync.Map

	mu    sync.RWMutex // guards the fields below
	man   *Manifest    // immutable; replaced as a whole on commit
	img   *vecFile
	txt   *vecFile
	ix    VectorIndex // nil without a usable index
	ixErr error       // why the recorded index is unusable
	// retired indexes may still serve searches that started before a
	// rebuild replaced them; they are closed with the store.
	retired []VectorIndex
	closed  bool
}

// Open opens the store in dir, creating it when dir does not exist or is an
// empty directory. Nil opts means default options.
//
// A writer takes an exclusive lock on the store; a second writer, or a
// reader while a writer has it open, gets ErrLocked. On a read-write open,
// debris of an interrupted ingest (rows, vectors and keys beyond what the
// manifest records) is removed, so the store holds only whole files.
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
		case n == "LOCK", n == "badger", n == "vectors", strings.HasSuffix(n, ".tmp"):
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

func (d *DB) acquireLock() error {
	path := filepath.Join(d.dir, "LOCK")
	flag := os.O_RDWR | os.O_CREATE
	how := syscall.LOCK_EX
	if d.opts.ReadOnly {
		flag = os.O_RDONLY
		how = syscall.LOCK_SH
	}
	f, err := os.OpenFile(path, flag, 0o644)
	if err != nil {
		if d.opts.ReadOnly && errors.Is(err, os.ErrNotExist) {
			// A store written by an older process without a LOCK file.
			return nil
		}
		return fmt.Errorf("db: opening %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			if d.opts.ReadOnly {
				return fmt.Errorf("%w: %s is open for writing by another process", ErrLocked, d.dir)
			}
			return fmt.Errorf("%w: %s is open by another process (only one writer, or several readers, at a time)", ErrLocked, d.dir)
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
	bo := badger.DefaultOptions(filepath.Join(d.dir, "badger")).
		WithLogger(badgerLogger{d.opts.Logger}).
		WithReadOnly(d.opts.ReadOnly).
		WithValueThreshold(4 << 10).
		WithNumVersionsToKeep(1).
		WithDetectConflicts(false).
		WithMetricsEnabled(false).
		WithBlockCacheSize(64 << 20).
		WithChecksumVerificationMode(options.OnTableRead)
	if !d.opts.ReadOnly {
		if err := removeEmptyLogs(filepath.Join(d.dir, "badger")); err != nil {
			return err
		}
	}
	bdb, err := badger.Open(bo)
	if err != nil {
		if d.opts.ReadOnly {
			return fmt.Errorf("db: opening metadata in %s read-only: %w: %v", d.dir, errNeedsRecovery, err)
		}
		return fmt.Errorf("db: opening metadata in %s: %w", d.dir, err)
	}
	d.bdb = bdb
	if !d.opts.ReadOnly {
		if err := d.recover(m); err != nil {
			bdb.Close()
			return err
		}
		if fresh {
			if err := writeManifest(d.dir, m); err != nil {
				bdb.Close()
				return fmt.Errorf("db: creating manifest: %w", err)
			}
		}
	}
	if err := d.openVectors(m); err != nil {
		bdb.Close()
		return err
	}
	d.man = m
	d.openIndex(m)
	return nil
}

// recover removes what an interrupted ingest left behind: Badger keys of
// segments the manifest does not list, vector bytes beyond the committed
// rows, and temporary files.
func (d *DB) recover(m *Manifest) error {
	ents, _ := os.ReadDir(d.dir)
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".tmp") {
			os.Remove(filepath.Join(d.dir, e.Name()))
		}
	}
	for _, prefix := range []byte{keyBlock} {
		stale, err := d.segmentsFrom(prefix, m.NextSegment)
		if err != nil {
			return fmt.Errorf("db: recovering %s: %w", d.dir, err)
		}
		for _, seg := range stale {
			if err := d.bdb.DropPrefix(segPrefix(prefix, seg)); err != nil {
				return fmt.Errorf("db: removing an interrupted ingest from %s: %w", d.dir, err)
			}
		}
	}
	if n := len(m.Segments); n > 0 && m.NextSegment <= m.Segments[n-1].ID {
		return fmt.Errorf("%w: %s: next segment id %d not above the last (%d)", ErrCorrupt, d.dir, m.NextSegment, m.Segments[n-1].ID)
	}
	return nil
}

// segmentsFrom lists the distinct segment ids >= from that have keys under
// the prefix byte.
func (d *DB) segmentsFrom(prefix byte, from uint32) ([]uint32, error) {
	var out []uint32
	err := d.bdb.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: false, Prefix: []byte{prefix}})
		defer it.Close()
		seek := segPrefix(prefix, from)
		for it.Seek(seek); it.Valid(); {
			k := it.Item().Key()
			if len(k) < 5 {
				it.Next()
				continue
			}
			seg := segOfKey(k)
			out = append(out, seg)
			if seg == ^uint32(0) {
				break
			}
			it.Seek(segPrefix(prefix, seg+1))
		}
		return nil
	})
	return out, err
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
	for _, ix := range append(d.retired, d.ix) {
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
	errs = append(errs, d.bdb.Close())
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
