package db

import (
	"context"
	"math"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/laiondb/laiondb/demodata"
	"github.com/laiondb/laiondb/engine"
)

// TestQueryAgainstBruteForce runs queries through the store and checks the
// counts against a direct computation over the rows the fixture wrote,
// across segments of both layouts (the metadata-only parts lack key, the
// embedding folder lacks sample_id).
func TestQueryAgainstBruteForce(t *testing.T) {
	tmp := t.TempDir()
	_, parts, err := demodata.LAION400M(filepath.Join(tmp, "parts"), demodata.Config{Seed: 31, Parts: 2, Rows: 1500})
	if err != nil {
		t.Fatal(err)
	}
	emb, err := demodata.EmbeddingFolder(filepath.Join(tmp, "emb"), demodata.Config{Seed: 31, Parts: 1, Rows: 1000, Dim: 16})
	if err != nil {
		t.Fatal(err)
	}
	d := openTest(t, filepath.Join(tmp, "store"))
	ingestPaths(t, d, filepath.Join(tmp, "parts"), emb.Dir)
	var rows []demodata.Row
	for _, p := range parts {
		rows = append(rows, p...)
	}
	rows = append(rows, emb.Rows[0]...)

	lower := strings.ToLower // the fixture's text is ASCII or invalid UTF-8 around ASCII words
	contains := func(s *string, needle string) bool { return s != nil && strings.Contains(lower(*s), needle) }
	essay := []string{"porn", "hot ", "adult", "xxx", "sex", "fuck", " rape "}
	word := regexp.MustCompile(`(^|[^\p{L}\p{N}_])desi($|[^\p{L}\p{N}_])`)
	cases := []struct {
		q    string
		pred func(r demodata.Row) bool
	}{
		{"all", func(demodata.Row) bool { return true }},
		{"all where text contains 'desi'", func(r demodata.Row) bool { return contains(r.Text, "desi") }},
		{"all where text contains 'DeSi'", func(r demodata.Row) bool { return contains(r.Text, "desi") }},
		{"all where not text contains 'desi'", func(r demodata.Row) bool { return r.Text != nil && !contains(r.Text, "desi") }},
		{"all where text has word 'desi'", func(r demodata.Row) bool { return r.Text != nil && word.MatchString(lower(*r.Text)) }},
		{"all where text contains 'hot '", func(r demodata.Row) bool { return contains(r.Text, "hot ") }},
		{"all where text contains ' rape '", func(r demodata.Row) bool { return contains(r.Text, " rape ") }},
		{"all where any lexicon essay2021", func(r demodata.Row) bool {
			for _, k := range essay {
				if contains(r.Text, k) || contains(r.URL, k) {
					return true
				}
			}
			return false
		}},
		{"all where nsfw = 'UNLIKELY' and url contains '/desi/'", func(r demodata.Row) bool {
			return r.NSFW != nil && *r.NSFW == "UNLIKELY" && contains(r.URL, "/desi/")
		}},
		{"all where nsfw is null or nsfw = 'None'", func(r demodata.Row) bool { return r.NSFW == nil || *r.NSFW == "None" }},
		{"all where similarity > 1", func(r demodata.Row) bool { return r.Similarity != nil && *r.Similarity > 1 }},
		{"all where similarity >= 0.3 and similarity <= 1", func(r demodata.Row) bool {
			return r.Similarity != nil && *r.Similarity >= 0.3 && *r.Similarity <= 1
		}},
		{"all where width in (200, 201, 202) or height < 210", func(r demodata.Row) bool {
			return (r.Width != nil && *r.Width <= 202) || (r.Height != nil && *r.Height < 210)
		}},
		{"all where sample_id is null", func(r demodata.Row) bool { return false }}, // replaced below
	}
	cases[len(cases)-1].pred = nil
	for _, c := range cases {
		res, err := d.Query(context.Background(), c.q, nil)
		if err != nil {
			t.Fatalf("%s: %v", c.q, err)
		}
		if c.pred == nil { // sample_id is null exactly in the embedding folder's rows
			if res.Selected != 1000 {
				t.Errorf("%s: %d, want 1000", c.q, res.Selected)
			}
			continue
		}
		want, nsfw := 0, map[string]int{}
		var simBelow int
		for _, r := range rows {
			if !c.pred(r) {
				continue
			}
			want++
			if r.NSFW == nil {
				nsfw["\x00null"]++
			} else {
				nsfw[*r.NSFW]++
			}
			if s := r.Similarity; s != nil && !math.IsNaN(*s) && *s >= -1 && *s <= 1 && *s < 0.3 {
				simBelow++
			}
		}
		if res.Selected != want || !res.Exact || res.RowsScanned != len(rows) {
			t.Errorf("%s: selected %d (exact %v, scanned %d), want %d of %d", c.q, res.Selected, res.Exact, res.RowsScanned, want, len(rows))
		}
		for _, v := range res.NSFW.Values {
			k := v.Value
			if v.Null {
				k = "\x00null"
			}
			if nsfw[k] != v.Count {
				t.Errorf("%s: nsfw %q = %d, want %d", c.q, k, v.Count, nsfw[k])
			}
			delete(nsfw, k)
		}
		if len(nsfw) != 0 {
			t.Errorf("%s: nsfw values missing: %v", c.q, nsfw)
		}
		if res.Similarity != nil && res.Similarity.Below03 != simBelow {
			t.Errorf("%s: similarity below 0.3 = %d, want %d", c.q, res.Similarity.Below03, simBelow)
		}
	}
}

// TestSampleIDTarget pairs a LAION-400M part (with SAMPLE_ID) with an npy
// file explicitly and searches from a row named by its SAMPLE_ID.
func TestSampleIDTarget(t *testing.T) {
	tmp := t.TempDir()
	paths, parts, err := demodata.LAION400M(filepath.Join(tmp, "parts"), demodata.Config{Seed: 41, Parts: 1, Rows: 500})
	if err != nil {
		t.Fatal(err)
	}
	emb, err := demodata.EmbeddingFolder(filepath.Join(tmp, "emb"), demodata.Config{Seed: 41, Parts: 1, Rows: 500, Dim: 16, NoText: true})
	if err != nil {
		t.Fatal(err)
	}
	d := openTest(t, filepath.Join(tmp, "store"))
	src := Source{Metadata: paths[0], ImageEmb: filepath.Join(emb.Dir, "img_emb", "img_emb_0.npy")}
	if _, err := d.Ingest(context.Background(), []Source{src}, nil); err != nil {
		t.Fatal(err)
	}
	id := parts[0][123].SampleID
	byID, err := d.Query(context.Background(), "knn(id("+strconv.FormatInt(id, 10)+"), 5)", &engine.Options{Rows: 5})
	if err != nil {
		t.Fatal(err)
	}
	byRow, err := d.Query(context.Background(), "knn(row(123), 5)", &engine.Options{Rows: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(byID.Rows) != 5 || byID.Rows[0].Row != 123 || byID.Rows[0].SampleID == nil || *byID.Rows[0].SampleID != id {
		t.Fatalf("knn(id(%d)) rows = %+v", id, byID.Rows)
	}
	for i := range byID.Rows {
		if byID.Rows[i].Row != byRow.Rows[i].Row {
			t.Errorf("row %d: by id %d, by position %d", i, byID.Rows[i].Row, byRow.Rows[i].Row)
		}
	}
	if _, err := d.Query(context.Background(), "knn(id(-77), 5)", nil); err == nil || !strings.Contains(err.Error(), "SAMPLE_ID -77") {
		t.Errorf("unknown SAMPLE_ID: %v", err)
	}
}
