package duckcheck

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/laiondb/laiondb/db"
	"github.com/laiondb/laiondb/demodata"
	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/export"
	"github.com/laiondb/laiondb/query"
)

// duckTypes are DuckDB's names of the exported column types.
var duckTypes = map[export.Type]string{
	export.Int64: "BIGINT", export.Float64: "DOUBLE", export.Float32: "FLOAT",
	export.Bool: "BOOLEAN", export.String: "VARCHAR",
}

// TestDuckDB exports queries of a generated store (LAION-400M parts with
// their odd values, and a clip-retrieval folder with embeddings) to parquet
// and JSONL, and reads them in DuckDB: the same row count, the column
// names and types in order, and the NSFW counts laiondb's statistics give.
func TestDuckDB(t *testing.T) {
	if os.Getenv("LAIONDB_NO_DUCKDB") == "1" {
		t.Skip("LAIONDB_NO_DUCKDB=1")
	}
	ctx := context.Background()
	tmp := t.TempDir()
	if _, _, err := demodata.LAION400M(filepath.Join(tmp, "meta"), demodata.Config{Seed: 11, Parts: 2, Rows: 2000}); err != nil {
		t.Fatal(err)
	}
	if _, err := demodata.EmbeddingFolder(filepath.Join(tmp, "emb"), demodata.Config{Seed: 11, Parts: 1, Rows: 1500, Dim: 16}); err != nil {
		t.Fatal(err)
	}
	d, err := db.Open(filepath.Join(tmp, "store"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	srcs, err := db.ExpandPaths([]string{filepath.Join(tmp, "meta"), filepath.Join(tmp, "emb")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Ingest(ctx, srcs, nil); err != nil {
		t.Fatal(err)
	}
	s, err := d.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	duck, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer duck.Close()

	for i, q := range []string{"all", "knn(row(4100), 700) where nsfw != 'NSFW'", "all where text contains 'desi' limit 333"} {
		res, err := engine.Run(ctx, s, query.MustParse(q), nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range []export.Format{export.Parquet, export.JSONL} {
			path := filepath.Join(tmp, fmt.Sprintf("q%d.%s", i, f))
			out, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			sum, err := export.Write(ctx, s, res, out, &export.Options{Format: f, ChunkRows: 1000})
			if cerr := out.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				t.Fatal(err)
			}
			from := "read_parquet('" + path + "')"
			if f == export.JSONL {
				from = "read_json('" + path + "', format = 'newline_delimited')"
			}
			var n int
			if err := duck.QueryRow("SELECT count(*) FROM " + from).Scan(&n); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			if n != res.Selected || sum.Rows != res.Selected {
				t.Errorf("%s as %s: DuckDB counts %d rows, laiondb selected %d and wrote %d", q, f, n, res.Selected, sum.Rows)
			}
			if f != export.Parquet {
				continue // JSON has no column types; DuckDB guesses them
			}
			var got, want []string
			rows, err := duck.Query("DESCRIBE SELECT * FROM " + from)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var name, typ string
				var null, key, def, extra sql.NullString
				if err := rows.Scan(&name, &typ, &null, &key, &def, &extra); err != nil {
					t.Fatal(err)
				}
				got = append(got, name+" "+typ)
			}
			rows.Close()
			for _, c := range sum.Columns {
				want = append(want, c.Name+" "+duckTypes[c.Type])
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s: DuckDB's columns\n%s\nwant\n%s", q, strings.Join(got, ", "), strings.Join(want, ", "))
			}
			checkNSFW(t, duck, from, res)
		}
	}
}

// checkNSFW compares DuckDB's count of each nsfw value with laiondb's.
func checkNSFW(t *testing.T, duck *sql.DB, from string, res *engine.Result) {
	t.Helper()
	rows, err := duck.Query("SELECT nsfw, count(*) FROM " + from + " GROUP BY nsfw ORDER BY nsfw NULLS FIRST")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got, want []string
	for rows.Next() {
		var v sql.NullString
		var n int
		if err := rows.Scan(&v, &n); err != nil {
			t.Fatal(err)
		}
		if !v.Valid {
			v.String = "(null)"
		}
		got = append(got, v.String+"="+strconv.Itoa(n))
	}
	for _, v := range res.NSFW.All() {
		name := v.Value
		if v.Null {
			name = "(null)"
		}
		want = append(want, name+"="+strconv.Itoa(v.Count))
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s: DuckDB's nsfw counts %v, laiondb's %v", from, got, want)
	}
}
