package main

import (
	"fmt"
	"os"

	"github.com/spf13/pflag"

	"github.com/laiondb/laiondb/engine"
)

var mergeFlags struct {
	format   string
	groupMem int64
	tempDir  string
}

func init() {
	register(&command{
		name:    "merge",
		summary: "merge the partial results of a query's shards into the result over all of them",
		usage: "[--format table|json|csv] PARTIAL...\n\n" +
			"Each shard of a dataset (a store of a consecutive group of its files) answers the query with\n" +
			"  laiondb query --store SHARD --partial shard-K.json --shard K/M QUERY\n" +
			"on any machine; merge adds their counts and prints the result the store of all the files\n" +
			"gives: the same counts, shares, intervals and quartiles. It refuses partials of different\n" +
			"queries, a shard given twice and a missing shard.",
		flags: func(fs *pflag.FlagSet) {
			f := &mergeFlags
			fs.StringVar(&f.format, "format", "table", "output format: table, json or csv")
			fs.Int64Var(&f.groupMem, "group-memory", engine.DefaultGroupBytes, "bytes of distinct 'by' values held in memory before they go to temporary files")
			fs.StringVar(&f.tempDir, "temp-dir", "", "folder for those temporary files (default the system's)")
		},
		run: runMerge,
	})
}

func runMerge(e *env, fs *pflag.FlagSet) error {
	f := &mergeFlags
	if fs.NArg() == 0 {
		return usageErrorf("give the partial result files to merge")
	}
	switch f.format {
	case "table", "json", "csv":
	default:
		return usageErrorf("--format %q: want table, json or csv", f.format)
	}
	if f.groupMem <= 0 {
		return usageErrorf("--group-memory must be positive")
	}
	var parts []*engine.Partial
	for _, path := range fs.Args() {
		fh, err := os.Open(path)
		if err != nil {
			return err
		}
		p, err := engine.ReadPartial(fh)
		fh.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		parts = append(parts, p)
	}
	res, err := engine.MergePartials(parts, &engine.Options{GroupBytes: f.groupMem, TempDir: f.tempDir})
	if err != nil {
		return err
	}
	return writeResult(e.stdout, f.format, res)
}
