package engine_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/engine/enginetest"
	"github.com/laiondb/laiondb/query"
)

func run(t *testing.T, s engine.Store, q string) *engine.Result {
	t.Helper()
	pq, err := query.Parse(q)
	if err != nil {
		t.Fatal(err)
	}
	res, err := engine.Run(context.Background(), s, pq, nil)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return res
}

// TestListFiles checks in file(...) against a row-by-row count: URLs as
// exact bytes and as normalised URLs, SAMPLE_IDs as numbers, not in, nulls.
func TestListFiles(t *testing.T) {
	s := enginetest.Generate(5000, 0, 9)
	dir := t.TempDir()
	urls, ids := s.Column("url"), s.Column("sample_id")
	var urlLines, idLines []string
	inURL, inID := map[string]bool{}, map[int64]bool{}
	for i := 0; i < s.NumRows(); i += 7 {
		u := string(urls.Str.At(i))
		inURL[u] = true
		urlLines = append(urlLines, u)
		inID[ids.Int[i]] = true
		idLines = append(idLines, fmt.Sprint(ids.Int[i]))
	}
	// Duplicates, blank lines, CRLF, and values no row holds.
	urlLines = append(urlLines, urlLines[0], "", "https://nowhere.example/x.jpg")
	idLines = append(idLines, idLines[3], "-5", "")
	write := func(name string, lines []string, sep string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(strings.Join(lines, sep)), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	up, ip := write("urls.txt", urlLines, "\r\n"), write("ids.txt", idLines, "\n")
	want := 0
	for i := 0; i < s.NumRows(); i++ {
		if inURL[string(urls.Str.At(i))] {
			want++
		}
	}
	res := run(t, s, fmt.Sprintf("all where url in file('%s')", up))
	if res.Selected != want || want == 0 {
		t.Errorf("url in file: %d rows, want %d", res.Selected, want)
	}
	if !strings.Contains(strings.Join(res.Notes, "\n"), fmt.Sprintf("%d distinct values, compared as exact bytes", len(inURL)+1)) {
		t.Errorf("notes %q", res.Notes)
	}
	if res := run(t, s, fmt.Sprintf("all where url not in file('%s')", up)); res.Selected != s.NumRows()-want {
		t.Errorf("not in: %d rows, want %d", res.Selected, s.NumRows()-want)
	}
	wantID := 0
	for i := 0; i < s.NumRows(); i++ {
		if inID[ids.Int[i]] {
			wantID++
		}
	}
	if res := run(t, s, fmt.Sprintf("all where sample_id in file('%s')", ip)); res.Selected != wantID {
		t.Errorf("sample_id in file: %d rows, want %d", res.Selected, wantID)
	}
	// URL comparison: case of scheme and host, and a trailing slash.
	var mixed []string
	for _, u := range urlLines[:20] {
		if u == "" {
			continue
		}
		k := strings.Index(u, "://") + 3
		host := u[:k] + strings.ToUpper(u[k:k+strings.IndexByte(u[k:], '/')])
		mixed = append(mixed, strings.Replace(u, u[:len(host)], strings.ToUpper(host), 1)+"/")
	}
	mp := write("mixed.txt", mixed, "\n")
	exact := run(t, s, fmt.Sprintf("all where url in file('%s')", mp))
	norm := run(t, s, fmt.Sprintf("all where url in file('%s', 'url')", mp))
	if exact.Selected != 0 || norm.Selected == 0 {
		t.Errorf("mixed-case URLs: exact %d rows (want 0), normalised %d (want some)", exact.Selected, norm.Selected)
	}
	// Errors name the file and the line.
	bad := write("bad.txt", []string{"12", "x12"}, "\n")
	empty := write("empty.txt", []string{"", ""}, "\r\n")
	for q, msg := range map[string]string{
		fmt.Sprintf("all where url in file('%s')", empty):                         "holds no values",
		fmt.Sprintf("all where sample_id in file('%s')", bad):                     "line 2",
		fmt.Sprintf("all where url in file('%s')", filepath.Join(dir, "missing")): "missing",
	} {
		pq, _ := query.Parse(q)
		if _, err := engine.Run(context.Background(), s, pq, nil); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%s: %v, want an error naming %s", q, err, msg)
		}
	}
}

// BenchmarkListSet builds a set of LIST_N (default 1,000,000) URL-like
// strings from a file and looks up as many values, half of them present;
// it reports the set's bytes per entry and lookups per second.
func BenchmarkListSet(b *testing.B) {
	n := 1_000_000
	if v := os.Getenv("LIST_N"); v != "" {
		fmt.Sscan(v, &n)
	}
	dir := b.TempDir()
	path := filepath.Join(dir, "list.txt")
	var sb strings.Builder
	for i := range n {
		fmt.Fprintf(&sb, "https://img%d.example.com/files/%d/%x.jpg\n", i%97, i, i*2654435761)
	}
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	s := enginetest.New(n)
	urls := make([]string, n)
	for i := range urls {
		j := i
		if i%2 == 1 {
			j = n + i // not in the list
		}
		urls[i] = fmt.Sprintf("https://img%d.example.com/files/%d/%x.jpg", j%97, j, j*2654435761)
	}
	s.AddStrings("url", urls, nil)
	pq, err := query.Parse(fmt.Sprintf("all where url in file('%s')", path))
	if err != nil {
		b.Fatal(err)
	}
	b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
		for b.Loop() {
			res, err := engine.Run(context.Background(), s, pq, nil)
			if err != nil || res.Selected != n/2 {
				b.Fatal(res.Selected, err)
			}
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
}
