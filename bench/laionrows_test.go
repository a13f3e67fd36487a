package bench

import (
	"slices"
	"strings"
	"testing"
)

// TestLAIONRows checks the generator's promises: determinism, the probes'
// rates, caption and URL lengths, and nulls.
func TestLAIONRows(t *testing.T) {
	const n = 200000
	a := GenerateLAIONRows(n, 3)
	b := GenerateLAIONRows(1000, 3)
	if !slices.Equal(a.Text[:1000], b.Text) || !slices.Equal(a.URL[:1000], b.URL) {
		t.Fatal("the same seed made different rows")
	}
	count := func(needle string) int {
		k := 0
		for i, s := range a.Text {
			if !a.TextNull[i] && strings.Contains(strings.ToLower(s), needle) {
				k++
			}
		}
		return k
	}
	near := func(what string, got int, want float64) {
		t.Helper()
		if f := float64(got) / n; f < want*0.8 || f > want*1.2 {
			t.Errorf("%s: %.4f%% of rows, want about %.4f%%", what, 100*f, 100*want)
		}
	}
	near("bhabhi", count("bhabhi"), 0.0005)
	near("desi", count("desi"), 0.003)
	if k := count("istanbul"); k != 0 {
		t.Errorf("istanbul in %d rows, want none", k)
	}
	lex := 0
	for i, s := range a.Text {
		l := strings.ToLower(s)
		if a.TextNull[i] {
			continue
		}
		for _, kw := range []string{"porn", "hot ", "adult", "xxx", "sex", "fuck", " rape "} {
			if strings.Contains(l, kw) {
				lex++
				break
			}
		}
	}
	near("essay2021", lex, 0.037)
	var text, url, nullT, nullU int
	for i := range n {
		if a.TextNull[i] {
			nullT++
		} else {
			text += len(a.Text[i])
		}
		if a.URLNull[i] {
			nullU++
		} else {
			url += len(a.URL[i])
		}
	}
	near("null captions", nullT, 0.005)
	near("null URLs", nullU, 0.001)
	if m := float64(text) / float64(n-nullT); m < 45 || m > 80 {
		t.Errorf("captions of %.1f bytes on average, want 45-80", m)
	}
	if m := float64(url) / float64(n-nullU); m < 70 || m > 130 {
		t.Errorf("URLs of %.1f bytes on average, want 70-130", m)
	}
	t.Logf("caption %.1f bytes, URL %.1f bytes on average", float64(text)/float64(n-nullT), float64(url)/float64(n-nullU))
	t.Logf("%q\n%q\n%q", a.Text[:5], a.URL[:3], a.Text[7])
}
