// Package captions draws LAION-like caption text for tests and benchmarks:
// a number of words from a vocabulary, joined by spaces or by separators
// drawn from a list, with some words capitalised and one position
// optionally taken from a second pool (the word a benchmark counts).
//
// Each caller keeps its own vocabulary, because each probes different
// edge cases (the essay's keywords and the words containing them, text
// whose lower case changes length, other scripts); the drawing is shared,
// so every generator consumes its random source the same way: for each
// word, a separator draw (if Seps is set and the word is not the first),
// then the word draw, then the capitalisation draw (if Capitalize is set
// and the word is not the first).
//
// laiondb's demo data (package demodata) is product code with its own
// subject-based captions; it does not use this package.
package captions

import "strings"

// Rand is the randomness captions draw from: IntN(n) is in [0, n).
// *math/rand/v2.Rand satisfies it, as does a fuzzer's byte source.
type Rand interface {
	IntN(n int) int
}

// Vocabulary says which words a caption is made of and how they are
// joined. The zero value of each option means: one space between words,
// words as written.
type Vocabulary struct {
	// Words are the words drawn, uniformly.
	Words []string
	// Seps, if not empty, are the separators drawn, uniformly, between
	// words; otherwise words are separated by one space.
	Seps []string
	// Capitalize, if positive, upper-cases the first byte of the first
	// word and of one other word in Capitalize (for ASCII vocabularies).
	Capitalize int
}

// Caption returns k words drawn from r.
func (v Vocabulary) Caption(r Rand, k int) string { return v.With(r, k, -1, nil) }

// With returns k words drawn from r, the word at position at (0 ≤ at < k)
// drawn from pool instead and written verbatim. A position outside [0, k)
// draws nothing from pool.
func (v Vocabulary) With(r Rand, k, at int, pool []string) string {
	var b strings.Builder
	for i := range k {
		if i > 0 {
			if len(v.Seps) > 0 {
				b.WriteString(v.Seps[r.IntN(len(v.Seps))])
			} else {
				b.WriteByte(' ')
			}
		}
		if i == at {
			b.WriteString(pool[r.IntN(len(pool))])
			continue
		}
		w := v.Words[r.IntN(len(v.Words))]
		if v.Capitalize > 0 && w != "" && (i == 0 || r.IntN(v.Capitalize) == 0) {
			w = strings.ToUpper(w[:1]) + w[1:]
		}
		b.WriteString(w)
	}
	return b.String()
}
