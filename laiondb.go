// Package laiondb composes an audit store for programs that face users: the
// command-line tool and, next, the HTTP server. It opens a store (package
// db) with a CLIP model that is loaded only when a query first needs one
// (package encode), reads keyword lists given as NAME=FILE, and turns the
// store's typed errors into messages that say what to do next.
//
// Programs that embed the store without a user in front of them can use
// package db directly.
//
//	s, err := laiondb.Open("audit.db", &laiondb.Options{ReadOnly: true, Model: "clip-vit-b-32"})
//	if err != nil { ... }
//	defer s.Close()
//	res, err := s.Query(ctx, "knn('beautiful', 100) where nsfw = 'UNLIKELY'", nil)
package laiondb

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/laiondb/laiondb/db"
	"github.com/laiondb/laiondb/encode"
	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/vector"
)

// Options configure Open. A nil *Options opens read-write with no model
// beyond $LAIONDB_MODEL.
type Options struct {
	// ReadOnly opens an existing store without write access; a missing
	// store is an error that says how to create one.
	ReadOnly bool
	// Model is the folder of an exported CLIP model (Hugging Face or
	// open_clip ONNX); empty means $LAIONDB_MODEL. The model is opened when
	// a query first encodes a text or an image, so queries that need none
	// never load ONNX Runtime.
	Model string
	// Vocab overrides the model folder's tokenizer file; ORTLib the ONNX
	// Runtime library (see encode.Options).
	Vocab, ORTLib string
	// Tune, when set, adjusts the store's options before it is opened
	// (EfSearch, ExactUpTo, Logger, ...).
	Tune func(*db.Options)
	// Warn receives the store's warnings (default: dropped).
	Warn func(msg string)
}

// Store is an open audit store and its lazily loaded model. Its methods are
// db.DB's, with errors that carry the next step for a user; like db.DB it is
// safe for concurrent use.
type Store struct {
	*db.DB
	model *lazyModel
}

// Open opens the store in dir.
func Open(dir string, o *Options) (*Store, error) {
	var opts Options
	if o != nil {
		opts = *o
	}
	if opts.ReadOnly {
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("no store at %s (create one with 'laiondb ingest --store %s FILES')", dir, dir)
		}
	}
	model := opts.Model
	if model == "" {
		model = os.Getenv(encode.ModelEnv)
	}
	s := &Store{}
	dbo := &db.Options{ReadOnly: opts.ReadOnly, Warn: opts.Warn}
	if model != "" {
		s.model = &lazyModel{dir: model, opts: encode.Options{LibPath: opts.ORTLib, Vocab: opts.Vocab}}
		dbo.Embedder = s.model
	}
	if opts.Tune != nil {
		opts.Tune(dbo)
	}
	d, err := db.Open(dir, dbo)
	if err != nil {
		s.model.close()
		return nil, err
	}
	s.DB = d
	return s, nil
}

// Close closes the store and the model, if it was loaded.
func (s *Store) Close() error {
	err := s.DB.Close()
	s.model.close()
	return err
}

// Query runs a query (see db.DB.Query) and explains errors a user can act
// on.
func (s *Store) Query(ctx context.Context, q string, opts *engine.Options) (*engine.Result, error) {
	res, err := s.DB.Query(ctx, q, opts)
	return res, Hint(err)
}

// QueryPartial runs a query as one shard of a dataset (see
// db.DB.QueryPartial) and explains errors a user can act on.
func (s *Store) QueryPartial(ctx context.Context, q string, opts *engine.Options, shard, shards int) (*engine.Partial, error) {
	p, err := s.DB.QueryPartial(ctx, q, opts, shard, shards)
	return p, Hint(err)
}

// ResolveTarget resolves a query's row or id target as one shard of a
// dataset (see db.DB.ResolveTarget) and explains errors a user can act
// on.
func (s *Store) ResolveTarget(ctx context.Context, q string, opts *engine.Options, shard, shards int) (*engine.ShardTarget, error) {
	t, err := s.DB.ResolveTarget(ctx, q, opts, shard, shards)
	return t, Hint(err)
}

// QueryBatch runs several queries against one snapshot (see
// db.DB.QueryBatch) and explains errors a user can act on.
func (s *Store) QueryBatch(ctx context.Context, qs []string, opts *engine.Options) ([]*engine.Result, error) {
	res, err := s.DB.QueryBatch(ctx, qs, opts)
	return res, Hint(err)
}

// Columns lists the names of the store's columns.
func (s *Store) Columns() []string {
	m, err := s.Manifest()
	if err != nil {
		return nil
	}
	out := make([]string, len(m.Columns))
	for i, c := range m.Columns {
		out[i] = c.Name
	}
	return out
}

// Explain returns a query's plan (see db.DB.Explain).
func (s *Store) Explain(q string, opts *engine.Options) (*engine.Plan, error) {
	p, err := s.DB.Explain(q, opts)
	return p, Hint(err)
}

// Describe returns a query's plan as laiondb query --explain prints it
// (see db.DB.Describe).
func (s *Store) Describe(ctx context.Context, q string, opts *engine.Options) (string, error) {
	p, err := s.DB.Describe(ctx, q, opts)
	return p, Hint(err)
}

// Hint adds to err what a user can do about it, when laiondb knows: a text
// or image target without a model names the --model flag and the
// environment variable; an unknown lexicon names --lexicon; a damaged
// vector names laiondb check. Other errors come back unchanged.
func Hint(err error) error {
	switch {
	case errors.Is(err, db.ErrNoModel):
		return &hinted{err, "give a CLIP model folder with --model DIR or $" + encode.ModelEnv}
	case errors.Is(err, engine.ErrUnknownLexicon):
		return &hinted{err, "give others with --lexicon NAME=FILE"}
	case errors.Is(err, vector.ErrNonFinite):
		return &hinted{err, "the store's vector file is damaged: 'laiondb check' lists what is wrong"}
	}
	return err
}

// hinted is an error with a next step; the query package's positioned
// errors keep their caret below the hint's line.
type hinted struct {
	err  error
	hint string
}

func (h *hinted) Error() string {
	msg := h.err.Error()
	first, rest, _ := strings.Cut(msg, "\n")
	if rest != "" {
		rest = "\n" + rest
	}
	return first + " (" + h.hint + ")" + rest
}

func (h *hinted) Unwrap() error { return h.err }

// Lexicons reads keyword lists given as NAME=FILE, or FILE (named after the
// file without its extension), one keyword per line (engine.LoadLexicon).
func Lexicons(specs []string) (map[string][]string, error) {
	out := map[string][]string{}
	for _, l := range specs {
		name, path, ok := strings.Cut(l, "=")
		if !ok {
			path = l
			name = strings.TrimSuffix(filepath.Base(l), filepath.Ext(l))
		}
		words, err := engine.LoadLexiconFile(path)
		if err != nil {
			return nil, err
		}
		out[name] = words
	}
	return out, nil
}

// lazyModel implements db.Embedder, opening the model when first asked.
type lazyModel struct {
	dir  string
	opts encode.Options
	once sync.Once
	m    *encode.Model
	err  error
}

func (l *lazyModel) load() (*encode.Model, error) {
	l.once.Do(func() { l.m, l.err = encode.Open(l.dir, &l.opts) })
	return l.m, l.err
}

func (l *lazyModel) Name() string {
	if m, err := l.load(); err == nil {
		return m.Name()
	}
	return filepath.Base(l.dir)
}

func (l *lazyModel) Dim() int {
	if m, err := l.load(); err == nil {
		return m.Dim()
	}
	return 0
}

func (l *lazyModel) EncodeText(ctx context.Context, texts []string) ([][]float32, error) {
	m, err := l.load()
	if err != nil {
		return nil, err
	}
	return m.EncodeText(ctx, texts)
}

func (l *lazyModel) EncodeImage(ctx context.Context, paths []string) ([][]float32, error) {
	m, err := l.load()
	if err != nil {
		return nil, err
	}
	return m.EncodeImage(ctx, paths)
}

// close closes the model if it was loaded; nil-safe.
func (l *lazyModel) close() {
	if l != nil && l.m != nil {
		l.m.Close()
	}
}

// Union is several stores queried as one store of their rows in order
// (see db.Union): the shards of a dataset, each a consecutive group of its
// files, answer through it as the store of all the files does. Text and
// image targets are encoded by the first store's model.
type Union struct {
	*db.Union
	stores []*Store
}

// OpenUnion opens the stores in dirs, in that order, with the same
// options, and returns their union.
func OpenUnion(dirs []string, o *Options) (*Union, error) {
	var stores []*Store
	for _, dir := range dirs {
		s, err := Open(dir, o)
		if err != nil {
			for _, s := range stores {
				s.Close()
			}
			if !strings.Contains(err.Error(), dir) {
				err = fmt.Errorf("%s: %w", dir, err)
			}
			return nil, err
		}
		stores = append(stores, s)
	}
	u, err := NewUnion(stores...)
	if err != nil {
		for _, s := range stores {
			s.Close()
		}
	}
	return u, err
}

// NewUnion returns the union of open stores, in that order; closing it
// closes them.
func NewUnion(stores ...*Store) (*Union, error) {
	dbs := make([]*db.DB, len(stores))
	for i, s := range stores {
		dbs[i] = s.DB
	}
	du, err := db.NewUnion(dbs...)
	if err != nil {
		return nil, err
	}
	return &Union{Union: du, stores: stores}, nil
}

// Snapshot returns a read view of the stores as one (db.Union.Snapshot),
// as an engine.Store.
func (u *Union) Snapshot() (engine.Store, error) {
	s, err := u.Union.Snapshot()
	if err != nil {
		return nil, err // not a nil *engine.Union in an interface
	}
	return s, nil
}

// Changed reports whether a store of the union changed on disk since it
// was opened (see db.DB.Changed).
func (u *Union) Changed() (bool, error) {
	for _, s := range u.stores {
		if c, err := s.Changed(); err != nil || c {
			return c, err
		}
	}
	return false, nil
}

// Close closes every store of the union.
func (u *Union) Close() error {
	var first error
	for _, s := range u.stores {
		if err := s.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Query runs a query over the union (see db.Union.Query) and explains
// errors a user can act on.
func (u *Union) Query(ctx context.Context, q string, opts *engine.Options) (*engine.Result, error) {
	res, err := u.Union.Query(ctx, q, opts)
	return res, Hint(err)
}

// QueryPartial runs a query over the union as one shard of a larger
// dataset (see db.Union.QueryPartial).
func (u *Union) QueryPartial(ctx context.Context, q string, opts *engine.Options, shard, shards int) (*engine.Partial, error) {
	p, err := u.Union.QueryPartial(ctx, q, opts, shard, shards)
	return p, Hint(err)
}

// ResolveTarget resolves a query's row or id target over the union as
// one shard of a larger dataset (see db.Union.ResolveTarget).
func (u *Union) ResolveTarget(ctx context.Context, q string, opts *engine.Options, shard, shards int) (*engine.ShardTarget, error) {
	t, err := u.Union.ResolveTarget(ctx, q, opts, shard, shards)
	return t, Hint(err)
}

// Describe returns a query's plan over the union as laiondb query
// --explain prints it.
func (u *Union) Describe(ctx context.Context, q string, opts *engine.Options) (string, error) {
	p, err := u.Union.Describe(ctx, q, opts)
	return p, Hint(err)
}

// Columns lists the names of the columns of the stores, in the order first
// seen.
func (u *Union) Columns() []string {
	var out []string
	for _, s := range u.stores {
		for _, c := range s.Columns() {
			if !slices.Contains(out, c) {
				out = append(out, c)
			}
		}
	}
	return out
}
