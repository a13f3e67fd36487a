package captions

import "testing"

// seq returns the values it was given, in order, each taken modulo n.
type seq struct {
	v []int
	i int
}

func (s *seq) IntN(n int) int {
	x := s.v[s.i] % n
	s.i++
	return x
}

func TestDrawOrder(t *testing.T) {
	for _, c := range []struct {
		name  string
		v     Vocabulary
		draws []int
		k, at int
		pool  []string
		want  string
		used  int
	}{
		{"spaces", Vocabulary{Words: []string{"a", "b", "c"}}, []int{2, 0, 1}, 3, -1, nil, "c a b", 3},
		// Separator before word: sep 1 ("-"), then word 0.
		{"seps", Vocabulary{Words: []string{"x", "y"}, Seps: []string{" ", "-"}}, []int{1, 1, 0}, 2, -1, nil, "y-x", 3},
		// The first word is always capitalised without a draw; the second
		// draws 0 (capitalise), the third 1 (not).
		{"capitalize", Vocabulary{Words: []string{"dog", "cat"}, Capitalize: 4}, []int{0, 1, 0, 0, 1}, 3, -1, nil, "Dog Cat dog", 5},
		// The pool word is written verbatim and draws no capitalisation.
		{"pool", Vocabulary{Words: []string{"dog"}, Capitalize: 4}, []int{0, 1, 0, 1}, 3, 1, []string{"desi", "DESI"}, "Dog DESI dog", 4},
		{"pool outside", Vocabulary{Words: []string{"w"}}, []int{0, 0}, 2, 5, []string{"never"}, "w w", 2},
		{"empty", Vocabulary{Words: []string{"w"}}, nil, 0, -1, nil, "", 0},
	} {
		r := &seq{v: c.draws}
		if got := c.v.With(r, c.k, c.at, c.pool); got != c.want || r.i != c.used {
			t.Errorf("%s: got %q after %d draws, want %q after %d", c.name, got, r.i, c.want, c.used)
		}
	}
}
