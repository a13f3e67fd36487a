package db

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/laiondb/laiondb/demodata"
	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/internal/npy"
	"github.com/laiondb/laiondb/vector"
)

// TestUnionOfShards ingests a generated dataset (17 clip-retrieval parts
// with embeddings and planted near-duplicates, then 3 LAION-400M metadata
// parts with other columns) into one store, and into 1, 2, 5 and 17
// shards of consecutive files, and checks that every query over the
// union of the shards answers as the one store does: byte for byte in
// JSON apart from the plan, fingerprint and search method, with the same
// selected rows and hits.
func TestUnionOfShards(t *testing.T) {
	tmp := t.TempDir()
	emb, err := demodata.EmbeddingFolder(filepath.Join(tmp, "emb"), demodata.Config{Seed: 5, Parts: 17, Rows: 90, Dim: 16, NearDups: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	// Row 5 (file 0) holds an exact copy of row 700's embedding (file 7):
	// a search from row 700 ranks row 700 first among the two, as a row
	// target's own row, where rows of equal score otherwise rank by row.
	copy(emb.Image[0][5*16:6*16], emb.Image[700/90][700%90*16:700%90*16+16])
	f16 := make([]uint16, len(emb.Image[0]))
	vector.F32ToF16(f16, emb.Image[0])
	if err := npy.WriteFloat16(filepath.Join(tmp, "emb", "img_emb", "img_emb_0.npy"), f16, 16); err != nil {
		t.Fatal(err)
	}
	// Seeds in several shards.
	seeds := filepath.Join(tmp, "seeds.txt")
	if err := os.WriteFile(seeds, []byte("1100\n33\n700\n1500\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A vector target every shard can search with: row 700's embedding.
	qnpy := filepath.Join(tmp, "q.npy")
	if err := npy.WriteFloat32(qnpy, emb.Image[700/90][700%90*16:700%90*16+16], 16); err != nil {
		t.Fatal(err)
	}
	if _, _, err := demodata.LAION400M(filepath.Join(tmp, "meta"), demodata.Config{Seed: 6, Parts: 3, Rows: 200}); err != nil {
		t.Fatal(err)
	}
	srcs, err := ExpandPaths([]string{filepath.Join(tmp, "emb"), filepath.Join(tmp, "meta")})
	if err != nil {
		t.Fatal(err)
	}
	if len(srcs) != 20 {
		t.Fatalf("%d sources", len(srcs))
	}
	ctx := context.Background()
	ingest := func(dir string, srcs []Source) *DB { return ingestSources(t, dir, srcs) }
	whole := ingest(filepath.Join(tmp, "whole"), srcs)
	queries := []string{
		`all`,
		`all where text contains 'desi' by nsfw`,
		`all where width < 300 by license`,
		`all where any lexicon essay2021 by domain(url)`,
		`all sweep similarity at (0.3, 0.34)`,
		`all sample 20 per file seed 3 by file`,
		`all sample 150 seed 5 where nsfw = 'UNLIKELY'`,
		`all where sample_id is null by file`,
		`knn(row(700), 25)`,
		`knn(row(33), 40) where nsfw = 'UNLIKELY' by license`,
		`knn(row(1500), 10) where width > 500`,
		`within(row(17), 0.6)`,
		`within(row(1200), 0.5) where text contains 'a'`,
		`knn(row(100), 30) dedup 0.97`,
		`within(row(900), 0.7) dedup 0.97`,
		`knn(row(1000).text, 12) in text`,
		`knn(row(1000), 12) in text`,
		`within(row(700), 0.9) by nsfw`,
		"knn(rows(file('" + seeds + "')), 8) by nsfw",
		"within(rows(file('" + seeds + "')), 0.9) where nsfw = 'UNLIKELY'",
		"knn(vector('" + qnpy + "'), 25) by nsfw",
		"knn(vector('" + qnpy + "'), 30) where width < 500 limit 12 post where nsfw != 'NSFW' by file",
		"within(vector('" + qnpy + "'), 0.6) by license sweep similarity at (0.3)",
		"knn(vector('" + qnpy + "'), 20) in text",
		"knn(vector('" + qnpy + "'), 30) dedup 0.97 by nsfw",
		"within(vector('" + qnpy + "'), 0.7) dedup 0.97",
	}
	opts := &engine.Options{Rows: engine.AllRows}
	want := make([]*engine.Result, len(queries))
	for i, q := range queries {
		if want[i], err = whole.Query(ctx, q, opts); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if want[i].Selected == 0 {
			t.Fatalf("%s selects no row: a poor test", q)
		}
		if strings.Contains(q, "dedup") && want[i].Search.Deduped == 0 {
			t.Fatalf("%s drops no near-duplicate: a poor test", q)
		}
	}
	for _, shards := range []int{1, 2, 5, 17} {
		var dbs []*DB
		for i := range shards {
			lo, hi := i*len(srcs)/shards, (i+1)*len(srcs)/shards
			dbs = append(dbs, ingest(filepath.Join(tmp, fmt.Sprintf("s%d-%d", shards, i)), srcs[lo:hi]))
		}
		u, err := NewUnion(dbs...)
		if err != nil {
			t.Fatal(err)
		}
		for i, q := range queries {
			got, err := u.Query(ctx, q, opts)
			if err != nil {
				t.Fatalf("%d shards: %s: %v", shards, q, err)
			}
			if g, w := unionJSON(t, got), unionJSON(t, want[i]); g != w {
				t.Fatalf("%d shards: %s: the union's answer differs from the store's:\n%s", shards, q, lineDiff(g, w))
			}
			if !slices.Equal(got.Selection.Words(), want[i].Selection.Words()) || !slices.Equal(got.Hits, want[i].Hits) {
				t.Fatalf("%d shards: %s: other rows selected", shards, q)
			}
		}
		// Each shard's partial result, merged, gives the same answer too,
		// where a partial can be written; every shard is given its place,
		// and a row or id target is resolved on every shard first.
		places := make([]*engine.Place, shards)
		var before int64
		for k, d := range dbs {
			m, err := d.Manifest()
			if err != nil {
				t.Fatal(err)
			}
			places[k] = &engine.Place{Before: before, Total: int64(want[0].TotalRows)}
			before += m.Rows
		}
		for i, q := range queries {
			var target []engine.StoredTarget
			if strings.Contains(q, "row(") || strings.Contains(q, "id(") || strings.Contains(q, "file(") {
				var ts []*engine.ShardTarget
				for k, d := range dbs {
					st, err := d.ResolveTarget(ctx, q, &engine.Options{Place: places[k]}, k+1, shards)
					if err != nil {
						t.Fatalf("%d shards: %s: target of shard %d: %v", shards, q, k+1, err)
					}
					ts = append(ts, st)
				}
				if target, err = engine.MergeTargets(ts); err != nil {
					t.Fatalf("%d shards: %s: targets: %v", shards, q, err)
				}
			}
			var parts []*engine.Partial
			for k, d := range dbs {
				o := *opts
				o.Place, o.Targets = places[k], target
				p, err := d.QueryPartial(ctx, q, &o, k+1, shards)
				if err != nil && strings.Contains(err.Error(), "unknown column") && shards > 1 {
					parts = nil
					break // a shard without the column cannot answer alone
				}
				if err != nil {
					t.Fatalf("%d shards: %s: partial of shard %d: %v", shards, q, k+1, err)
				}
				parts = append(parts, p)
			}
			if len(parts) == 0 {
				continue
			}
			got, err := engine.MergePartials(parts, nil)
			if err != nil {
				t.Fatalf("%d shards: %s: merge: %v", shards, q, err)
			}
			if g, w := unionJSON(t, got), unionJSON(t, want[i]); g != w {
				t.Fatalf("%d shards: %s: the merged partials differ from the store's answer:\n%s", shards, q, lineDiff(g, w))
			}
		}
		if shards == 5 {
			plan, err := u.Describe(ctx, queries[9], nil)
			if err != nil || !strings.Contains(plan, "knn") {
				t.Errorf("Describe: %v\n%s", err, plan)
			}
		}
	}
	// A store given twice would count its rows twice.
	if _, err := NewUnion(whole, whole); !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), "twice") {
		t.Errorf("a store twice: %v", err)
	}
}

// unionJSON is a Result as JSON without the plan, fingerprint and search
// method, which a union words differently.
func unionJSON(t *testing.T, res *engine.Result) string {
	t.Helper()
	r := *res
	r.Plan, r.Fingerprint = "", ""
	if r.Search != nil {
		s := *r.Search
		s.Method = ""
		r.Search = &s
	}
	b, err := json.MarshalIndent(&r, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// lineDiff shows the first line where two texts differ.
func lineDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range min(len(g), len(w)) {
		if g[i] != w[i] {
			return fmt.Sprintf("line %d: %s\n   want: %s", i+1, g[i], w[i])
		}
	}
	return fmt.Sprintf("%d lines, want %d", len(g), len(w))
}

// TestUnionFirstWithoutEmbeddings: a union whose first store holds no
// embeddings resolves vector targets through the first store that does,
// and answers as the store of all the files.
func TestUnionFirstWithoutEmbeddings(t *testing.T) {
	tmp := t.TempDir()
	if _, _, err := demodata.LAION400M(filepath.Join(tmp, "meta"), demodata.Config{Seed: 7, Parts: 2, Rows: 100}); err != nil {
		t.Fatal(err)
	}
	emb, err := demodata.EmbeddingFolder(filepath.Join(tmp, "emb"), demodata.Config{Seed: 8, Parts: 2, Rows: 100, Dim: 16})
	if err != nil {
		t.Fatal(err)
	}
	qnpy := filepath.Join(tmp, "q.npy")
	if err := npy.WriteFloat32(qnpy, emb.Image[1][3*16:4*16], 16); err != nil {
		t.Fatal(err)
	}
	meta, err := ExpandPaths([]string{filepath.Join(tmp, "meta")})
	if err != nil {
		t.Fatal(err)
	}
	embs, err := ExpandPaths([]string{emb.Dir})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ingest := func(dir string, srcs []Source) *DB { return ingestSources(t, dir, srcs) }
	whole := ingest(filepath.Join(tmp, "whole"), append(slices.Clone(meta), embs...))
	u, err := NewUnion(ingest(filepath.Join(tmp, "m"), meta), ingest(filepath.Join(tmp, "e"), embs))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"knn(vector('" + qnpy + "'), 10) by nsfw", "within(vector('" + qnpy + "'), 0.5)", "knn(vector('" + qnpy + "'), 5) in text"} {
		want, err := whole.Query(ctx, q, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := u.Query(ctx, q, nil)
		if err != nil {
			t.Fatalf("%s over the union: %v", q, err)
		}
		if g, w := unionJSON(t, got), unionJSON(t, want); g != w || want.Selected == 0 {
			t.Errorf("%s: %s", q, lineDiff(g, w))
		}
	}
}

// ingestSources opens a new store in dir and ingests srcs into it.
func ingestSources(t *testing.T, dir string, srcs []Source) *DB {
	t.Helper()
	d := openTest(t, dir)
	if _, err := d.Ingest(context.Background(), srcs, nil); err != nil {
		t.Fatal(err)
	}
	return d
}
