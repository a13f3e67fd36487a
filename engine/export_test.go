package engine

import (
	"regexp/syntax"
	"strings"
)

// RegexpNeedles returns the folded literals that regexpQuery requires of a
// match of rx, in order; an or prints as "(a|b)".
func RegexpNeedles(rx string) []string {
	re, err := syntax.Parse(rx, syntax.Perl)
	if err != nil {
		panic(err)
	}
	var walk func(q *textQuery) []string
	walk = func(q *textQuery) []string {
		switch {
		case q == nil:
			return nil
		case q.and != nil:
			var out []string
			for _, x := range q.and {
				out = append(out, walk(x)...)
			}
			return out
		case q.or != nil:
			var alts []string
			for _, x := range q.or {
				alts = append(alts, strings.Join(walk(x), " "))
			}
			return []string{"(" + strings.Join(alts, "|") + ")"}
		}
		b := []byte(string(q.grams[0][:]))
		for _, g := range q.grams[1:] {
			b = append(b, g[2])
		}
		return []string{string(b)}
	}
	return walk(regexpQuery("c", re.Simplify()))
}
