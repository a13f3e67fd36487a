package main

import (
	"fmt"
	"io"
	"log"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/pflag"

	"github.com/laiondb/laiondb"
	"github.com/laiondb/laiondb/db"
)

// storeFlags are the flags of every command that opens a store.
type storeFlags struct {
	dir      string
	verbose  bool
	indexMem float64
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

// openAudit opens the store through package laiondb, with the store flags'
// warnings and log on stderr.
func (s *storeFlags) openAudit(e *env, o *laiondb.Options) (*laiondb.Store, error) {
	if s.dir == "" {
		return nil, usageErrorf("%v", errEmptyStore)
	}
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
	return laiondb.Open(s.dir, o)
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
