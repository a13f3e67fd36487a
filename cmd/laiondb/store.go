package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/pflag"

	"github.com/laiondb/laiondb"
	"github.com/laiondb/laiondb/db"
	"github.com/laiondb/laiondb/engine"
)

// storeFlags are the flags of every command that opens a store.
type storeFlags struct {
	dir      string
	verbose  bool
	indexMem float64
	// more are the stores after the first, for a command that queries
	// several as one (addMany).
	more []string
}

func (s *storeFlags) add(fs *pflag.FlagSet) {
	s.dir = "laiondb-store"
	if v, ok := os.LookupEnv("LAIONDB_STORE"); ok {
		s.dir = v
	}
	fs.Var(&onceString{val: &s.dir, name: "store"}, "store", "store directory (default $LAIONDB_STORE, else laiondb-store); give it once")
	fs.BoolVar(&s.verbose, "verbose", false, "print storage engine messages to stderr")
	addIndexMemory(fs, &s.indexMem)
}

// addMany adds the store flags with a --store that may be given more
// than once: the stores are queried as one store of their rows in order.
func (s *storeFlags) addMany(fs *pflag.FlagSet) {
	s.add(fs)
	s.more = nil
	fs.Lookup("store").Value = &manyStores{s: s}
	fs.Lookup("store").Usage = "store directory (default $LAIONDB_STORE, else laiondb-store); give it again for each shard of a dataset, in file order, to query them as one store of all their rows"
}

// manyStores is the --store of addMany.
type manyStores struct {
	s   *storeFlags
	set bool
}

func (m *manyStores) String() string { return m.s.dir }
func (m *manyStores) Type() string   { return "string" }
func (m *manyStores) Set(v string) error {
	if v == "" {
		return errEmptyStore
	}
	if m.set {
		m.s.more = append(m.s.more, v)
		return nil
	}
	m.set, m.s.dir = true, v
	return nil
}

// addIndexMemory adds --index-memory, in GB, to fs.
func addIndexMemory(fs *pflag.FlagSet, gb *float64) {
	fs.Float64Var(gb, "index-memory", 0, "GB of memory the store's vector indexes may hold; they load smallest first while they fit, and searches say why one is not used (default: three quarters of this machine's memory; -1: no bound)")
}

// indexMemory is db.Options.IndexMemory for --index-memory GB.
func indexMemory(gb float64) int64 {
	if gb < 0 {
		return -1
	}
	return int64(gb * 1e9)
}

// open opens the store; readOnly opens share the store with other readers.
func (s *storeFlags) open(e *env, readOnly bool) (*db.DB, error) {
	st, err := s.openAudit(e, &laiondb.Options{ReadOnly: readOnly})
	if err != nil {
		return nil, err
	}
	return st.DB, nil
}

// querier is what the commands that take several --store need of one
// store or of their union (a *laiondb.Store, a *laiondb.Union).
type querier interface {
	Snapshot() (engine.Store, error)
	Query(ctx context.Context, q string, opts *engine.Options) (*engine.Result, error)
	Describe(ctx context.Context, q string, opts *engine.Options) (string, error)
	QueryPartial(ctx context.Context, q string, opts *engine.Options, shard, shards int) (*engine.Partial, error)
	ResolveTarget(ctx context.Context, q string, opts *engine.Options, shard, shards int) (*engine.ShardTarget, error)
	Fingerprint() string
	Close() error
}

// openQuerier opens the store, or with more than one --store their
// union, as openAudit does.
func (s *storeFlags) openQuerier(e *env, o *laiondb.Options) (querier, error) {
	if len(s.more) == 0 {
		return s.openAudit(e, o)
	}
	return laiondb.OpenUnion(append([]string{s.dir}, s.more...), s.options(e, o))
}

// openAudit opens the store through package laiondb, with the store flags'
// warnings and log on stderr.
func (s *storeFlags) openAudit(e *env, o *laiondb.Options) (*laiondb.Store, error) {
	if s.dir == "" {
		return nil, usageErrorf("%v", errEmptyStore)
	}
	return laiondb.Open(s.dir, s.options(e, o))
}

// options adds to o the store flags' warnings, log and index memory.
func (s *storeFlags) options(e *env, o *laiondb.Options) *laiondb.Options {
	o.Warn = func(msg string) { fmt.Fprintf(e.stderr, "laiondb: warning: %s\n", msg) }
	tune := o.Tune
	o.Tune = func(dbo *db.Options) {
		if s.verbose {
			dbo.Logger = log.New(e.stderr, "laiondb: ", 0)
		}
		dbo.IndexMemory = indexMemory(s.indexMem)
		if tune != nil {
			tune(dbo)
		}
	}
	return o
}

// progress returns an ingest progress callback drawing a bar on stderr, or
// nil when stderr is not a terminal or quiet is set.
func progress(e *env, quiet bool, what string) (func(done, total int64), func()) {
	if quiet || !e.isTerminal {
		return nil, func() {}
	}
	var bar *progressbar.ProgressBar
	cb := func(done, total int64) {
		if bar == nil {
			bar = progressbar.NewOptions64(total,
				progressbar.OptionSetWriter(e.stderr),
				progressbar.OptionSetDescription(what),
				progressbar.OptionShowCount(),
				progressbar.OptionShowIts(),
				progressbar.OptionSetItsString("rows"),
				progressbar.OptionSetPredictTime(true),
				progressbar.OptionThrottle(100*time.Millisecond),
				progressbar.OptionClearOnFinish(),
			)
		}
		bar.Set64(done)
	}
	return cb, func() {
		if bar != nil {
			bar.Finish()
			io.WriteString(e.stderr, "")
		}
	}
}
