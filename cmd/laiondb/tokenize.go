package main

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"

	"github.com/laiondb/laiondb/encode"
	"github.com/spf13/pflag"
)

var tokenizeFlags struct {
	model, vocab string
	full         bool
}

func init() {
	register(&command{
		name:    "tokenize",
		summary: "print the CLIP token ids of texts, one line per text",
		usage: "[--model DIR | --vocab FILE] [--full] TEXT... | -\n\n" +
			"With -, the texts are read from standard input, one a line (no quoting needed). A text that\n" +
			"begins with '-' goes after --: laiondb tokenize -- \"- a caption\".\n\n" +
			"Each line is <|startoftext|> (49406), the BPE ids, <|endoftext|> (49407), cut to 77 ids;\n" +
			"--full adds the padding. The tokenizer comes from --vocab (bpe_simple_vocab_16e6.txt.gz,\n" +
			"tokenizer.json or vocab.json with merges.txt), else from the model folder (--model or\n" +
			"$" + encode.ModelEnv + ").",
		flags: func(fs *pflag.FlagSet) {
			f := &tokenizeFlags
			fs.StringVar(&f.model, "model", "", "model folder holding the tokenizer files (default $"+encode.ModelEnv+")")
			fs.StringVar(&f.vocab, "vocab", "", "tokenizer file: bpe_simple_vocab_16e6.txt.gz, tokenizer.json or vocab.json")
			fs.BoolVar(&f.full, "full", false, "print all 77 ids, padding included")
		},
		run: func(e *env, fs *pflag.FlagSet) error {
			f := &tokenizeFlags
			if fs.NArg() == 0 {
				return usageErrorf("no text given")
			}
			if f.model != "" && f.vocab != "" {
				return usageErrorf("give --model or --vocab, not both")
			}
			tok, err := encode.OpenTokenizer(f.model, f.vocab)
			if err != nil {
				return err
			}
			texts := fs.Args()
			if len(texts) == 1 && texts[0] == "-" {
				texts = nil
				sc := bufio.NewScanner(e.stdin)
				sc.Buffer(make([]byte, 64<<10), 16<<20)
				for sc.Scan() {
					texts = append(texts, strings.TrimSuffix(sc.Text(), "\r"))
				}
				if err := sc.Err(); err != nil {
					return fmt.Errorf("reading texts from standard input: %w", err)
				}
			}
			var b strings.Builder
			for _, text := range texts {
				ids, n := tok.Tokenize(text)
				if f.full {
					n = len(ids)
				}
				b.Reset()
				for i, id := range ids[:n] {
					if i > 0 {
						b.WriteByte(' ')
					}
					b.WriteString(strconv.Itoa(int(id)))
				}
				if _, err := fmt.Fprintln(e.stdout, b.String()); err != nil {
					return err
				}
			}
			return nil
		},
	})
}
