package main

import (
	"context"
	"fmt"
	"strconv"

	"github.com/laiondb/laiondb/encode"
	"github.com/spf13/pflag"
)

// The CLIP similarity thresholds LAION filtered with: image–caption pairs
// below them were dropped.
const (
	laion400MThreshold = 0.3
	laion5BThreshold   = 0.28
)

var simFlags struct {
	model modelFlags
}

func init() {
	register(&command{
		name:    "sim",
		summary: "CLIP cosine similarity of an image with captions, against LAION's filter thresholds",
		usage: "--model DIR [--ort-lib FILE] IMAGE CAPTION...\n\n" +
			"Prints the cosine similarity of the image's CLIP embedding with each caption's, and\n" +
			"whether the pair passes LAION-400M's filter (>= 0.3) and LAION-5B's (>= 0.28).",
		flags: func(fs *pflag.FlagSet) {
			simFlags.model.add(fs)
		},
		run: func(e *env, fs *pflag.FlagSet) error {
			f := &simFlags
			if fs.NArg() < 2 {
				return usageErrorf("need an image and at least one caption")
			}
			m, err := encode.Open(f.model.dir, &encode.Options{LibPath: f.model.ortLib, Vocab: f.model.vocab})
			if err != nil {
				return err
			}
			defer m.Close()
			ctx := context.Background()
			img := fs.Arg(0)
			captions := fs.Args()[1:]
			iv, err := m.EncodeImage(ctx, []string{img})
			if err != nil {
				return err
			}
			tv, err := m.EncodeText(ctx, captions)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "model %s (dim %d), image %s\n", m.Name(), m.Dim(), img)
			fmt.Fprintf(e.stdout, "%8s  %-16s  %-16s  %s\n", "cosine", "LAION-400M >=0.3", "LAION-5B >=0.28", "caption")
			for i, c := range captions {
				s := encode.Cosine(iv[0], tv[i])
				fmt.Fprintf(e.stdout, "%8.4f  %-16s  %-16s  %s\n", s, keep(s, laion400MThreshold), keep(s, laion5BThreshold), strconv.Quote(c))
			}
			return nil
		},
	})
}

// keep says whether LAION's filter at threshold t keeps a pair of
// similarity s.
func keep(s float32, t float64) string {
	if float64(s) >= t {
		return "kept"
	}
	return "dropped"
}
