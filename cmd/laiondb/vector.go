package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"

	"github.com/spf13/pflag"

	"github.com/laiondb/laiondb/internal/npy"
	"github.com/laiondb/laiondb/query"
)

var vectorFlags struct {
	store storeFlags
	model modelFlags
	out   string
}

func init() {
	register(&command{
		name:    "vector",
		summary: "write a search target's query vector to an .npy file",
		usage: "[--store DIR]... [--model DIR] --out FILE.npy TARGET\n\n" +
			"  laiondb vector --store shard-1 --store shard-2 --out q.npy 'id(1234567)'\n" +
			"  laiondb vector --out q.npy \"'a photo of a cat'\"\n" +
			"Writes the unit-norm vector a knn or within search with TARGET searches with (any target of\n" +
			"the query language but a seed set: row(N), id(N), their .text, a text, image('x.jpg'),\n" +
			"vector('v.npy')) as one float32 row. knn(vector('FILE.npy'), K) then finds the same rows on\n" +
			"any store, such as every shard of a dataset (laiondb query --partial), where the row itself\n" +
			"lies in one shard only; ties rank by row, where a row(N) or id(N) target ranks its own row\n" +
			"first among the rows that tie with it.",
		flags: func(fs *pflag.FlagSet) {
			f := &vectorFlags
			f.store.addMany(fs)
			f.model.add(fs)
			fs.StringVar(&f.out, "out", "", "the .npy file to write")
		},
		run: runVector,
	})
}

func runVector(e *env, fs *pflag.FlagSet) error {
	f := &vectorFlags
	switch {
	case fs.NArg() != 1:
		return usageErrorf("give one target, e.g. 'row(42)' or \"'a photo of a cat'\"")
	case f.out == "":
		return usageErrorf("give --out FILE.npy")
	}
	q, err := query.Parse("knn(" + fs.Arg(0) + ", 1)")
	if err != nil {
		return usageErrorf("target %q: %v", fs.Arg(0), err)
	}
	src, ok := q.Source.(*query.KNNSource)
	if !ok || q.Where != nil || q.Limit >= 0 {
		return usageErrorf("target %q: want a target alone, e.g. 'row(42)'", fs.Arg(0))
	}
	t := src.Target.Target
	if t.Kind.Seeds() {
		return usageErrorf("target %q: a seed set is many vectors; give one target", fs.Arg(0))
	}
	st, err := f.store.openQuerier(e, (&searchFlags{}).openOptions(&f.model))
	if err != nil {
		return err
	}
	defer st.Close()
	s, err := st.Snapshot()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	v, err := s.Vector(ctx, t)
	if err != nil {
		return err
	}
	if err := npy.WriteFloat32(f.out, v, len(v)); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "wrote the %d-d query vector of %s to %s\n", len(v), src.Target, f.out)
	return nil
}
