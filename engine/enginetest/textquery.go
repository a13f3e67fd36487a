package enginetest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/query"
)

// Hostile are strings whose lower case changes length ('İ' → "i̇", 'ẞ' →
// 'ß'), depends on the neighbours (capital sigma), maps outside ASCII or
// into it (the Kelvin sign, long s), or that hold spaces at the ends, an
// invalid byte, full-width or Cherokee letters: the cases where a text
// index that folds differently from the predicates would lose rows.
var Hostile = []string{
	"İstanbul", "AİB", "ΟΔΟΣ", "ΑΣ Β", "ΑΣ.Β", "ΑΣ.", "Σ Σ", "ΑΣΣ", "ᾼΣ", "ΌΣΟΣ ΚΑΙ",
	"ẞΩKÅ", "\u212Aelvin", "ſtraße", "x\xffY", "ꭰ", "Ꭰ", "ǅemal", "Ａ Ｂ", " spaced ",
	"hot ", "screenshot ", "i\u0307", "東京", "it's", "a.b*c", "ΑΣ\u0301", "Straße",
}

// specialNeedles are needles tried besides those cut from values.
var specialNeedles = []string{
	"İ", "i̇", "i", "Σ", "σ", "ς", "ος", "ΟΣ", " ", "  ", "hot ", " rape ", "desi", "DESI",
	"ſ", "s", "K", "\u212A", "k", "ß", "ss", "ẞ", "東", "xx", "Ａ", "ａ ｂ",
}

// TextQuery returns a random where clause of text predicates on the
// columns cols (or any), with needles cut from vals (random runes of a
// random value, in random case) or taken from a list of hostile ones, of
// one to eight runes: contains, has word, matches (literal, (?i),
// alternations, anchors, repetitions, and patterns without a literal),
// the lexicon lx, whose keywords it returns, and and/or/not of them with
// nsfw. The clause parses.
func TextQuery(rng *rand.Rand, cols, vals []string) (where string, lx []string) {
	needle := func() string {
		if rng.IntN(5) == 0 {
			return specialNeedles[rng.IntN(len(specialNeedles))]
		}
		for {
			r := []rune(vals[rng.IntN(len(vals))])
			if len(r) == 0 {
				continue
			}
			i := rng.IntN(len(r))
			j := min(len(r), i+1+rng.IntN(8))
			s := string(r[i:j])
			if !utf8.ValidString(s) {
				continue
			}
			switch rng.IntN(4) {
			case 0:
				s = strings.ToUpper(s)
			case 1:
				s = strings.ToLower(s)
			}
			return s
		}
	}
	quote := func(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
	field := func() string {
		if rng.IntN(4) == 0 {
			return "any"
		}
		return cols[rng.IntN(len(cols))]
	}
	var leaf func() string
	leaf = func() string {
		switch rng.IntN(10) {
		case 0, 1, 2:
			return field() + " contains " + quote(needle())
		case 3:
			w := strings.TrimSpace(needle())
			if w == "" {
				w = "desi"
			}
			return field() + " has word " + quote(w)
		case 4:
			for n := 1 + rng.IntN(3); len(lx) < n; {
				if k := needle(); strings.TrimSpace(k) != "" {
					lx = append(lx, k)
				}
			}
			return field() + " lexicon lx"
		}
		q, q2 := regexp.QuoteMeta(needle()), regexp.QuoteMeta(needle())
		pats := []string{
			q, "(?i)" + q, q + ".*" + q2, "(" + q + "|" + q2 + ")", "^" + q, q + "$",
			`\b` + q + `\b`, "(?i)(" + q + ")+", q + "?", "[a-z]+" + q, "x*", ".",
			"(?i)" + q + "[0-9]*" + q2, "(" + q + "){2}", "(?i:" + q + ")" + q2,
		}
		return field() + " matches " + quote(pats[rng.IntN(len(pats))])
	}
	switch rng.IntN(8) {
	case 0:
		return leaf() + " and " + leaf(), lx
	case 1:
		return leaf() + " or " + leaf(), lx
	case 2:
		return "not " + leaf(), lx
	case 3:
		return leaf() + " and nsfw = 'UNLIKELY'", lx
	case 4:
		return "(" + leaf() + " or nsfw = 'NSFW')", lx
	case 5:
		return "not (" + leaf() + " and " + leaf() + ") and " + leaf(), lx
	}
	return leaf(), lx
}

// SameAnswer runs q on indexed, a store with a text index, and on plain,
// the same store without one, and reports the first difference: in the
// rows selected, or in any part of the result but the plan and the number
// of rows evaluated. It returns the indexed run's plan.
func SameAnswer(ctx context.Context, indexed, plain engine.Store, q *query.Query, opts *engine.Options) (string, error) {
	want, err := engine.Run(ctx, plain, q, opts)
	if err != nil {
		return "", fmt.Errorf("%s: scan: %w", q, err)
	}
	got, err := engine.Run(ctx, indexed, q, opts)
	if err != nil {
		return "", fmt.Errorf("%s: index: %w", q, err)
	}
	plan := got.Plan
	if !slices.Equal(got.Selection.Words(), want.Selection.Words()) {
		return plan, fmt.Errorf("%s: the index selects %d rows, the scan %d\nplan:\n%s", q, got.Selected, want.Selected, plan)
	}
	got.Plan, got.RowsScanned, want.Plan, want.RowsScanned = "", 0, "", 0
	gj, err := json.Marshal(got)
	if err != nil {
		return plan, err
	}
	wj, err := json.Marshal(want)
	if err != nil {
		return plan, err
	}
	if string(gj) != string(wj) {
		return plan, fmt.Errorf("%s: results differ:\nindex %s\nscan  %s", q, gj, wj)
	}
	return plan, nil
}
