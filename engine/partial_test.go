package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/engine/enginetest"
	"github.com/laiondb/laiondb/query"
	"github.com/laiondb/laiondb/table"
)

// partialQueries are the queries a partial result can hold today.
var partialQueries = []string{
	`all`,
	`all where text contains 'desi' by nsfw`,
	`all where width < 300 by license, nsfw`,
	`all where any lexicon essay2021 by domain(url)`,
	`all where any lexicon mine by url`,
	`all sweep similarity at (0.26, 0.3, 0.34)`,
	`all where text contains 'hot' by file`,
	`all where similarity > 0.3 or nsfw is null`,
	`all where nsfw = 'UNLIKELY' limit 50 by license`,
	`all where text contains 'a' limit 100 post where width > 500 by nsfw`,
	`all where width < 400 post where nsfw = 'NSFW' by file`,
	`all sample 40 per file seed 3 by file`,
	`all sample 30 per file seed 5 where nsfw = 'UNLIKELY' limit 40 by file`,
	`all sample 300 seed 7 by file`,
	`all sample 250 seed 2 where nsfw = 'UNLIKELY' by nsfw sweep similarity at (0.3)`,
	`all sample 200 seed 9 where text contains 'a' limit 30 by file`,
	`all sample 5000 seed 1 by license`,
	`knn('beautiful', 25)`,
	`knn('beautiful', 40) where nsfw = 'UNLIKELY' by license, file`,
	`knn('beautiful', 30) limit 10 post where width > 300`,
	`within('beautiful', 0.2) by nsfw sweep similarity at (0.3)`,
	`within('beautiful', 0.9)`,
	`knn('beautiful', 20) dedup 0.5`,
	`knn('beautiful', 30) dedup 0.8 where nsfw = 'UNLIKELY' by nsfw`,
	`within('beautiful', 0.25) dedup 0.6`,
	`knn(row(1234), 10)`,
	`knn(row(2999), 10) where width > 500 by nsfw`,
	`within(row(17), 0.3) where text contains 'a' by license`,
	`knn(id(4000), 15) by license`,
	`knn(row(40), 20) dedup 0.5`,
}

// TestPartialsMerge runs each query on 1, 2, 5 and 17 shards of a
// generated store, writes each shard's partial result as JSON, reads the
// partials back and merges them: the merged Result equals the store's,
// byte for byte in JSON apart from the plan and fingerprint (the counts,
// shares, intervals, quartiles, groups past the 'by' limit, with values
// spilled to disk, and the first rows). The merged fingerprint is the
// union's of the shards.
func TestPartialsMerge(t *testing.T) {
	const n = 3100
	whole := enginetest.Generate(n, 16, 12)
	whole.FileRows = 700
	whole.BatchSize = 333
	// Exact duplicates, so that ties decide the ranks across shards.
	vecs := whole.Vectors()
	for i := 0; i+1500 < n; i += 97 {
		vecs[i+1500] = vecs[i]
	}
	// Similarities of two decimals, so that values repeat.
	sim := whole.Column("similarity")
	for i, x := range sim.Float {
		if x >= -1 && x <= 1 {
			sim.Float[i] = math.Round(x*100) / 100
		}
	}
	ctx := context.Background()
	opts := &engine.Options{Rows: 25, Groups: 7, GroupBytes: 2000, Lexicons: map[string][]string{"mine": {"desi", " aunty", "Σ"}}}
	cuts := map[int][]int{1: {0, n}, 2: {0, 1234, n}, 5: {0, 10, 700, 700, 2500, n}, 17: nil}
	for k := range 17 {
		cuts[17] = append(cuts[17], k*n/17)
	}
	cuts[17] = append(cuts[17], n)
	// Copies of the best rows for 'beautiful' in other shards, so that
	// ties decide ranks; and a within whose threshold is a row's score
	// (the store's own hits tie at it).
	best, err := engine.Run(ctx, whole, query.MustParse(`knn('beautiful', 30)`), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, to := range []int{3050, 20, 1700, 2600} {
		vecs[to] = vecs[best.Hits[i].Row]
	}
	// A second row with sample_id 4000 (row 1000's), in a later shard:
	// id(4000) is the first.
	whole.Column("sample_id").Int[2500] = 4000
	// Seed sets with seeds in several shards: rows, a row twice, and
	// SAMPLE_IDs, one of them on two rows.
	dir := t.TempDir()
	rowsFile, idsFile := filepath.Join(dir, "rows.txt"), filepath.Join(dir, "ids.txt")
	os.WriteFile(rowsFile, []byte("3000\n5\n700\n1800\n700\n"), 0o644)
	os.WriteFile(idsFile, []byte("4000\n7000\n1009\n"), 0o644)
	queries := append(slices.Clone(partialQueries),
		"knn(rows(file('"+rowsFile+"')), 12) by nsfw",
		"knn(ids(file('"+idsFile+"')), 9) where width > 300 limit 15",
		"within(rows(file('"+rowsFile+"')), 0.3) where nsfw = 'UNLIKELY' by license",
		fmt.Sprintf(`within('beautiful', %s) by nsfw`, strconv.FormatFloat(float64(best.Hits[25].Score), 'g', -1, 32)))
	for _, q := range queries {
		parsed := query.MustParse(q)
		want, err := engine.Run(ctx, whole, parsed, opts)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if want.Selected == 0 && !strings.Contains(q, "0.9)") {
			t.Fatalf("%s selects no row", q)
		}
		if strings.Contains(q, "dedup") && want.Search.Deduped == 0 {
			t.Fatalf("%s drops no near-duplicate: a poor test", q)
		}
		for shards, cut := range cuts {
			if strings.Contains(q, "per file") {
				// A sample per file needs each file whole in one shard:
				// cut at the files' ends (700 rows each), some shards
				// empty.
				cut = make([]int, shards+1)
				for i := range cut {
					cut[i] = min(n, 700*((i*5+shards-1)/shards))
				}
				cut[shards] = n
			}
			// A row or id target is first resolved on every shard.
			var target []engine.StoredTarget
			if strings.Contains(q, "row(") || strings.Contains(q, "id(") || strings.Contains(q, "file(") {
				var ts []*engine.ShardTarget
				for i := range shards {
					shard := whole.Rows(cut[i], cut[i+1])
					plan, err := engine.NewPlan(parsed, shard, &engine.Options{Place: &engine.Place{Before: int64(cut[i]), Total: n}})
					if err != nil {
						t.Fatal(err)
					}
					st, err := plan.ResolveTarget(ctx, shard, i+1, shards)
					if err != nil {
						t.Fatalf("%s: shard %d of %d: %v", q, i+1, shards, err)
					}
					var buf bytes.Buffer
					if err := json.NewEncoder(&buf).Encode(st); err != nil {
						t.Fatal(err)
					}
					if st, err = engine.ReadShardTarget(&buf); err != nil {
						t.Fatal(err)
					}
					ts = append([]*engine.ShardTarget{st}, ts...) // any order
				}
				if target, err = engine.MergeTargets(ts); err != nil {
					t.Fatalf("%s: %d shards: %v", q, shards, err)
				}
			}
			var parts []*engine.Partial
			var stores []engine.Store
			for i := range shards {
				shard := whole.Rows(cut[i], cut[i+1])
				stores = append(stores, shard)
				// Every shard is given its place (a whole-store sample
				// needs it; the merge checks it for every query).
				o := *opts
				o.Place = &engine.Place{Before: int64(cut[i]), Total: n}
				o.Targets = target
				plan, err := engine.NewPlan(parsed, shard, &o)
				if err != nil {
					t.Fatal(err)
				}
				p, err := plan.RunPartial(ctx, shard, i+1, shards)
				if err != nil {
					t.Fatalf("%s: shard %d of %d: %v", q, i+1, shards, err)
				}
				var buf bytes.Buffer
				if err := json.NewEncoder(&buf).Encode(p); err != nil {
					t.Fatal(err)
				}
				if p, err = engine.ReadPartial(&buf); err != nil {
					t.Fatal(err)
				}
				parts = append([]*engine.Partial{p}, parts...) // any order
			}
			got, err := engine.MergePartials(parts, &engine.Options{GroupBytes: 3000})
			if err != nil {
				t.Fatalf("%s: %d shards: %v", q, shards, err)
			}
			if g, w := resultJSON(t, got), resultJSON(t, want); g != w {
				t.Fatalf("%s: %d shards: the merged result differs from the store's:\n%s", q, shards, firstDiff(g, w))
			}
			u, _ := engine.NewUnion(stores...)
			if got.Fingerprint != u.Fingerprint() {
				t.Errorf("%d shards: merged fingerprint %s, the union's %s", shards, got.Fingerprint, u.Fingerprint())
			}
		}
	}
}

// TestPartialsRefused: a merge refuses partials of different queries,
// lexicons or formats, a shard twice and a missing shard, naming them; a
// query a partial cannot hold yet says so.
func TestPartialsRefused(t *testing.T) {
	whole := enginetest.Generate(900, 8, 13)
	ctx := context.Background()
	run := func(q string, shard, shards int, opts *engine.Options) *engine.Partial {
		t.Helper()
		return shardPartial(t, whole, q, shard, shards, opts)
	}
	a1, a2, a3 := run("all by nsfw", 1, 3, nil), run("all by nsfw", 2, 3, nil), run("all by nsfw", 3, 3, nil)
	for _, tc := range []struct {
		parts []*engine.Partial
		want  string
	}{
		{[]*engine.Partial{a1, a2}, "missing: 3"},
		{[]*engine.Partial{a1, a2, a2, a3}, "shard 2 of 3 given twice"},
		{[]*engine.Partial{a1, a2, run("all by license", 3, 3, nil)}, "different queries"},
		{[]*engine.Partial{a1, a2, run("all by nsfw", 3, 3, &engine.Options{Lexicons: map[string][]string{"x": {"y"}}})}, "different lexicons"},
		{[]*engine.Partial{a1, a2, run("all by nsfw", 2, 2, nil)}, "one of 2 shards"},
		{nil, "nothing to merge"},
		{[]*engine.Partial{run("all sample 5 per file seed 1", 1, 2, nil), run("all sample 5 per file seed 1", 2, 2, nil)}, "split between shards"},
	} {
		_, err := engine.MergePartials(tc.parts, nil)
		if !errors.Is(err, engine.ErrPartial) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("want an error with %q, got %v", tc.want, err)
		}
	}
	// A shard that sent too few hits for a dedup's merge: refused, not
	// answered from the others.
	dd := []*engine.Partial{run("knn('beautiful', 20) dedup 0.5", 1, 3, nil), run("knn('beautiful', 20) dedup 0.5", 2, 3, nil), run("knn('beautiful', 20) dedup 0.5", 3, 3, nil)}
	if _, err := engine.MergePartials(dd, nil); err != nil {
		t.Fatalf("dedup: %v", err)
	}
	for _, p := range dd {
		p.Search.Hits, p.Search.Vectors, p.Search.Complete = p.Search.Hits[:1], p.Search.Vectors[:1], false
	}
	if _, err := engine.MergePartials(dd, nil); !errors.Is(err, engine.ErrPartial) || !strings.Contains(err.Error(), "cannot give the exact answer") {
		t.Errorf("a dedup from too few hits: %v", err)
	}
	old := *a1
	old.Format = 99
	b, _ := json.Marshal(&old)
	if _, err := engine.ReadPartial(bytes.NewReader(b)); !errors.Is(err, engine.ErrPartial) || !strings.Contains(err.Error(), "format 99") {
		t.Errorf("format 99: %v", err)
	}
	if _, err := engine.ReadPartial(strings.NewReader(`{"format": 1, "bogus": 2}`)); !errors.Is(err, engine.ErrPartial) {
		t.Errorf("an unknown field: %v", err)
	}
	// A whole-store sample: refused without its place; places that do
	// not follow the shards' rows are refused at the merge.
	placed := func(k int, before, total int64) *engine.Partial {
		return run("all sample 50 seed 4 by nsfw", k, 3, &engine.Options{Place: &engine.Place{Before: before, Total: total}})
	}
	s1, s2, s3 := placed(1, 0, 900), placed(2, 300, 900), placed(3, 600, 900)
	if _, err := engine.MergePartials([]*engine.Partial{s1, s2, s3}, nil); err != nil {
		t.Fatalf("whole-store sample: %v", err)
	}
	noPlace := run("all by nsfw", 2, 3, nil)
	for _, tc := range []struct {
		parts []*engine.Partial
		want  string
	}{
		{[]*engine.Partial{s1, placed(2, 250, 900), s3}, "drew as if after 250 rows, but the shards before it hold 300"},
		{[]*engine.Partial{s1, placed(2, 300, 1000), s3}, "among 900 rows in all, shard 2 among 1000"},
		{[]*engine.Partial{run("all by nsfw", 1, 3, &engine.Options{Place: &engine.Place{Total: 900}}), noPlace, a3}, "shard 1 gives its place among all the rows, shard 2 does not"},
		{[]*engine.Partial{s1, s2, func() *engine.Partial { p := *s3; p.Place = nil; return &p }()}, "shard 1 gives its place"},
	} {
		_, err := engine.MergePartials(tc.parts, nil)
		if !errors.Is(err, engine.ErrPartial) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("want an error with %q, got %v", tc.want, err)
		}
	}
	shard := whole.Rows(300, 600)
	for _, tc := range []struct {
		k     int
		place *engine.Place
		want  string
	}{
		{2, nil, "give the shard's place"},
		{2, &engine.Place{Before: 700, Total: 900}, "cannot lie after 700 rows of 900"},
		{1, &engine.Place{Before: 300, Total: 900}, "the first shard's rows come first"},
		{3, &engine.Place{Before: 300, Total: 900}, "the last shard's rows end"},
	} {
		plan, err := engine.NewPlan(query.MustParse("all sample 50 seed 4"), shard, &engine.Options{Place: tc.place})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := plan.RunPartial(ctx, shard, tc.k, 3); !errors.Is(err, engine.ErrPartial) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("shard %d placed at %+v: want an error with %q, got %v", tc.k, tc.place, tc.want, err)
		}
	}
	for q, want := range map[string]string{
		"knn(row(3), 10)":                  "resolve it on every shard first",
		"within(rows(file('x.txt')), 0.5)": "a seed set names rows of any shard",
	} {
		plan, err := engine.NewPlan(query.MustParse(q), whole, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := plan.RunPartial(ctx, whole, 1, 1); !errors.Is(err, engine.ErrPartial) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s as a partial: %v", q, err)
		}
	}
}

// FuzzMergePartials: a partial result file as found on disk, however
// damaged, is read and merged with the other shards' without a panic: an
// error, or a result. The seeds are the partials of the three kinds (the
// states of an all query, a limit's first rows, a search's hits with a
// dedup's embeddings) as JSON; the fuzzer changes shard 2's.
func FuzzMergePartials(f *testing.F) {
	whole := enginetest.Generate(600, 8, 15)
	whole.FileRows = 200
	ctx := context.Background()
	queries := []string{"all where text contains 'a' by nsfw, file sweep similarity at (0.3)", "all limit 20 post where width > 300", "knn('beautiful', 10) dedup 0.5 by license"}
	shards := map[string][3][]byte{}
	for _, q := range queries {
		var ps [3][]byte
		for k := 1; k <= 3; k++ {
			s := whole.Rows((k-1)*200, k*200)
			plan, err := engine.NewPlan(query.MustParse(q), s, nil)
			if err != nil {
				f.Fatal(err)
			}
			p, err := plan.RunPartial(ctx, s, k, 3)
			if err != nil {
				f.Fatal(err)
			}
			if ps[k-1], err = json.Marshal(p); err != nil {
				f.Fatal(err)
			}
		}
		shards[q] = ps
		f.Add(q, ps[1])
	}
	f.Fuzz(func(t *testing.T, q string, mid []byte) {
		ps, ok := shards[q]
		if !ok {
			return
		}
		var parts []*engine.Partial
		for k, b := range [][]byte{ps[0], mid, ps[2]} {
			p, err := engine.ReadPartial(bytes.NewReader(b))
			if err != nil {
				if k != 1 {
					t.Fatalf("shard %d: %v", k+1, err)
				}
				return
			}
			parts = append(parts, p)
		}
		engine.MergePartials(parts, nil)
	})
}

// TestPartialsDamaged: a partial whose numbers cannot be (negative
// counts, rows past its end, an embedding of another dimension, a column
// of another type) is refused with an error, never merged or a panic.
func TestPartialsDamaged(t *testing.T) {
	whole := enginetest.Generate(600, 8, 16)
	run := func(q string) []*engine.Partial {
		return []*engine.Partial{shardPartial(t, whole, q, 1, 2, nil), shardPartial(t, whole, q, 2, 2, nil)}
	}
	for _, tc := range []struct {
		q      string
		damage func(p *engine.Partial)
	}{
		{"all by nsfw", func(p *engine.Partial) { p.TotalRows = -5 }},
		{"all by nsfw", func(p *engine.Partial) { p.Files[0].Rows = -3 }},
		{"all by nsfw", func(p *engine.Partial) { p.Stats[0].State = json.RawMessage("-3") }},
		{"all by nsfw", func(p *engine.Partial) {
			p.Stats[1].State = json.RawMessage(`{"rows": 5, "values": [["x", -1]], "null": 0}`)
		}},
		{"all by nsfw", func(p *engine.Partial) {
			p.Stats[1].State = json.RawMessage(`{"rows": 5, "values": [[1, 2]], "null": 0}`)
		}},
		{"all sweep similarity at (0.3)", func(p *engine.Partial) {
			p.Stats[len(p.Stats)-1].State = json.RawMessage(`{"rows": 1, "thresholds": [{"kept": -1}]}`)
		}},
		{"knn('beautiful', 10)", func(p *engine.Partial) { p.Search.Hits[0].Row = 400 }},
		{"knn('beautiful', 10)", func(p *engine.Partial) { p.Search.Columns["nsfw"].Type = table.TypeInt }},
		{"knn('beautiful', 10)", func(p *engine.Partial) { p.Search.Columns["nsfw"].Str = nil }},
		{"knn('beautiful', 10) dedup 0.5", func(p *engine.Partial) { p.Search.Vectors[1] = p.Search.Vectors[1][:3] }},
		{"knn('beautiful', 10) dedup 0.5", func(p *engine.Partial) { p.Search.Vectors = p.Search.Vectors[1:] }},
		{"all limit 20", func(p *engine.Partial) { p.First.Hits[0].Row = 1 << 30 }},
		{"all limit 20", func(p *engine.Partial) { p.First = nil }},
	} {
		ps := run(tc.q)
		if _, err := engine.MergePartials(ps, nil); err != nil {
			t.Fatalf("%s: the undamaged partials: %v", tc.q, err)
		}
		tc.damage(ps[1])
		// Through JSON, as from a file.
		b, _ := json.Marshal(ps[1])
		p, err := engine.ReadPartial(bytes.NewReader(b))
		if err == nil {
			ps[1] = p
			_, err = engine.MergePartials(ps, nil)
		}
		if err == nil {
			t.Errorf("%s: a damaged partial merged", tc.q)
		}
	}
}

// shardPartial returns the partial result of q on shard k of m equal
// shards of whole.
func shardPartial(t *testing.T, whole *enginetest.Store, q string, k, m int, opts *engine.Options) *engine.Partial {
	t.Helper()
	n := whole.NumRows()
	s := whole.Rows((k-1)*n/m, k*n/m)
	plan, err := engine.NewPlan(query.MustParse(q), s, opts)
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.RunPartial(context.Background(), s, k, m)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestTargetsRefused: a row or id target's resolution refuses shards of
// other queries, a shard missing or given twice, places that do not
// follow the shards' rows, and a target no shard holds; a partial refuses
// a resolution its own row contradicts, and the merge partials of
// different resolutions.
func TestTargetsRefused(t *testing.T) {
	whole := enginetest.Generate(900, 8, 13)
	ctx := context.Background()
	resolve := func(q string, k int, before int64) *engine.ShardTarget {
		t.Helper()
		s := whole.Rows((k-1)*300, k*300)
		plan, err := engine.NewPlan(query.MustParse(q), s, &engine.Options{Place: &engine.Place{Before: before, Total: 900}})
		if err != nil {
			t.Fatal(err)
		}
		st, err := plan.ResolveTarget(ctx, s, k, 3)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "rows.txt"), []byte("3\n5000\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "ids.txt"), []byte("1003\n999999\n"), 0o644)
	rowsQ := "knn(rows(file('" + filepath.Join(dir, "rows.txt") + "')), 3)"
	idsQ := "knn(ids(file('" + filepath.Join(dir, "ids.txt") + "')), 3)"
	q := "knn(row(450), 10)"
	r1, r2, r3 := resolve(q, 1, 0), resolve(q, 2, 300), resolve(q, 3, 600)
	if len(r1.Found) != 0 || len(r2.Found) != 1 || r2.Found[0].Row != 450 || len(r3.Found) != 0 {
		t.Fatalf("row 450 found in shards %d %d %d", len(r1.Found), len(r2.Found), len(r3.Found))
	}
	rts, err := engine.MergeTargets([]*engine.ShardTarget{r3, r1, r2})
	if err != nil || len(rts) != 1 || rts[0].Row != 450 {
		t.Fatalf("merge: %v, %+v", err, rts)
	}
	rt := rts[0]
	for _, tc := range []struct {
		ts   []*engine.ShardTarget
		want string
	}{
		{[]*engine.ShardTarget{r1, r2}, "shard 3 is missing"},
		{[]*engine.ShardTarget{r1, r3}, "shard 2 is missing"},
		{[]*engine.ShardTarget{r1, r2, r2, r3}, "given twice"},
		{[]*engine.ShardTarget{r1, r2, resolve("knn(row(451), 10)", 3, 600)}, "different queries"},
		{[]*engine.ShardTarget{r1, resolve(q, 2, 250), r3}, "lies after 250 rows"},
		{[]*engine.ShardTarget{resolve("knn(row(5000), 3)", 1, 0), resolve("knn(row(5000), 3)", 2, 300), resolve("knn(row(5000), 3)", 3, 600)}, "row 5000 (the shards hold 900 rows)"},
		{[]*engine.ShardTarget{resolve("knn(id(7), 3)", 1, 0), resolve("knn(id(7), 3)", 2, 300), resolve("knn(id(7), 3)", 3, 600)}, "no row has sample_id 7"},
		{[]*engine.ShardTarget{resolve(rowsQ, 1, 0), resolve(rowsQ, 2, 300), resolve(rowsQ, 3, 600)}, "rows.txt, line 2: row 5000 is past the store's 900 rows"},
		{[]*engine.ShardTarget{resolve(idsQ, 1, 0), resolve(idsQ, 2, 300), resolve(idsQ, 3, 600)}, "ids.txt, line 2: no row has SAMPLE_ID 999999 (1 of the 2 seeds match no row)"},
		{nil, "no shard's target"},
	} {
		if _, err := engine.MergeTargets(tc.ts); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("want an error with %q, got %v", tc.want, err)
		}
	}
	if _, err := engine.ReadShardTarget(strings.NewReader(`{"format": 2}`)); !errors.Is(err, engine.ErrPartial) || !strings.Contains(err.Error(), "format 2") {
		t.Errorf("format 2: %v", err)
	}
	// The shard holding the row checks it against the resolution; the
	// merge refuses partials searched from different resolutions.
	run := func(k int, target engine.StoredTarget) (*engine.Partial, error) {
		s := whole.Rows((k-1)*300, k*300)
		plan, err := engine.NewPlan(query.MustParse(q), s, &engine.Options{Place: &engine.Place{Before: int64(k-1) * 300, Total: 900}, Targets: []engine.StoredTarget{target}})
		if err != nil {
			t.Fatal(err)
		}
		return plan.RunPartial(ctx, s, k, 3)
	}
	other := engine.StoredTarget{Row: 450, Vec: slices.Clone(rt.Vec)}
	other.Vec[0] += 0.25
	if _, err := run(2, other); !errors.Is(err, engine.ErrPartial) || !strings.Contains(err.Error(), "not the embedding the target was resolved to") {
		t.Errorf("a resolution the row contradicts: %v", err)
	}
	p1, _ := run(1, rt)
	p2, _ := run(2, rt)
	p3, err := run(3, other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := engine.MergePartials([]*engine.Partial{p1, p2, p3}, nil); !errors.Is(err, engine.ErrPartial) || !strings.Contains(err.Error(), "different resolutions") {
		t.Errorf("different resolutions: %v", err)
	}
	plan, err := engine.NewPlan(query.MustParse(q), whole, &engine.Options{Targets: rts})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plan.RunPartial(ctx, whole, 1, 1); !errors.Is(err, engine.ErrPartial) || !strings.Contains(err.Error(), "give the shard's place") {
		t.Errorf("no place: %v", err)
	}
}
