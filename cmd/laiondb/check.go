package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"

	"github.com/spf13/pflag"
)

var checkFlags struct {
	store  storeFlags
	asJSON bool
}

func init() {
	register(&command{
		name:    "check",
		summary: "verify a store: manifest, column blocks, statistics, vectors and index",
		usage:   "--store DIR",
		flags: func(fs *pflag.FlagSet) {
			checkFlags.store.add(fs)
			fs.BoolVar(&checkFlags.asJSON, "json", false, "print JSON")
		},
		run: func(e *env, fs *pflag.FlagSet) error {
			if fs.NArg() > 0 {
				return usageErrorf("unexpected arguments %v", fs.Args())
			}
			d, err := checkFlags.store.open(e, true)
			if err != nil {
				return err
			}
			defer d.Close()
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
			defer stop()
			r, err := d.Check(ctx)
			if err != nil {
				return err
			}
			if checkFlags.asJSON {
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(r); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(e.stdout, "checked %d rows in %d files: %d column blocks, %d vectors\n", r.Rows, r.Segments, r.Blocks, r.Vectors)
				for _, p := range r.Problems {
					fmt.Fprintf(e.stdout, "PROBLEM %s\n", p)
				}
			}
			if !r.OK() {
				return fmt.Errorf("%d problems found in %s", len(r.Problems), checkFlags.store.dir)
			}
			if !checkFlags.asJSON { // JSON output is one document and nothing else
				fmt.Fprintln(e.stdout, "ok")
			}
			return nil
		},
	})
}
