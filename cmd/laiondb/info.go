package main

import (
	"github.com/spf13/pflag"
)

var infoFlags struct {
	store  storeFlags
	asJSON bool
}

func init() {
	register(&command{
		name:    "info",
		summary: "summarise a store: rows, vectors, columns with null counts, files, NSFW values",
		usage:   "--store DIR",
		flags: func(fs *pflag.FlagSet) {
			infoFlags.store.add(fs)
			fs.BoolVar(&infoFlags.asJSON, "json", false, "print JSON")
		},
		run: func(e *env, fs *pflag.FlagSet) error {
			if fs.NArg() > 0 {
				return usageErrorf("unexpected arguments %v", fs.Args())
			}
			d, err := infoFlags.store.open(e, true)
			if err != nil {
				return err
			}
			defer d.Close()
			in, err := d.Info()
			if err != nil {
				return err
			}
			if infoFlags.asJSON {
				return writeJSON(e.stdout, in)
			}
			return in.WriteText(e.stdout)
		},
	})
}
