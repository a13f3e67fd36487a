package main

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/laiondb/laiondb/db"
	"github.com/laiondb/laiondb/demodata"
	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/query"
)

// predBench times a numeric comparison over n rows on one thread: the
// count of rows with width < W (widths uniform in [200, 1000), so W = 208,
// 280 and 600 keep 1%, 10% and 50%), in laiondb's store (the query
// 'all where width < W' on a store of SAMPLE_ID and WIDTH only, so the
// statistics are the count; the store warm, as a server's is after its
// first query) and in DuckDB (SET threads = 1; SELECT count(*) FROM t
// WHERE WIDTH < W on a table loaded from the same parquet file). Rounds
// alternate the two systems; each round's CPU time (getrusage, all
// threads) of one query is reported as the median and range over rounds.
func predBench(ctx context.Context, out string, n int, seed uint64, rounds int) error {
	runtime.GOMAXPROCS(1)
	dir := filepath.Join(out, fmt.Sprintf("pred-%d-s%d", n, seed))
	part := filepath.Join(dir, "part-00000.parquet")
	if _, err := os.Stat(part); err != nil {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		r := rand.New(rand.NewPCG(seed, 0x77))
		rows := make([]demodata.Row, n)
		for i := range rows {
			w := int32(200 + r.IntN(800))
			rows[i] = demodata.Row{SampleID: int64(i), Width: &w}
		}
		if err := demodata.WriteParquet(part+".tmp", "laion400m", rows); err != nil {
			return err
		}
		if err := os.Rename(part+".tmp", part); err != nil {
			return err
		}
		os.RemoveAll(filepath.Join(dir, "store"))
	}
	storeDir := filepath.Join(dir, "store")
	if _, err := os.Stat(filepath.Join(storeDir, "MANIFEST.json")); err != nil {
		d, err := db.Open(storeDir, nil)
		if err != nil {
			return err
		}
		if _, err := d.Ingest(ctx, []db.Source{{Metadata: part}}, nil); err != nil {
			d.Close()
			return err
		}
		if err := d.Close(); err != nil {
			return err
		}
	}
	d, err := db.Open(storeDir, &db.Options{ReadOnly: true})
	if err != nil {
		return err
	}
	defer d.Close()
	s, err := d.Snapshot()
	if err != nil {
		return err
	}
	duck, err := sql.Open("duckdb", "")
	if err != nil {
		return fmt.Errorf("duckdb: %w", err)
	}
	defer duck.Close()
	var version string
	_ = duck.QueryRow("SELECT version()").Scan(&version)
	if _, err := duck.Exec("SET threads = 1"); err != nil {
		return err
	}
	if _, err := duck.Exec(fmt.Sprintf("CREATE TABLE t AS SELECT * FROM read_parquet('%s')", part)); err != nil {
		return fmt.Errorf("duckdb load: %w", err)
	}
	type system struct {
		name  string
		count func(w int) (int, error)
	}
	systems := []system{
		{"laiondb-store", func(w int) (int, error) {
			res, err := engine.Run(ctx, s, query.MustParse(fmt.Sprintf("all where width < %d", w)), nil)
			if err != nil {
				return 0, err
			}
			return res.Selected, nil
		}},
		{"duckdb", func(w int) (int, error) {
			var c int
			err := duck.QueryRow(fmt.Sprintf("SELECT count(*) FROM t WHERE WIDTH < %d", w)).Scan(&c)
			return c, err
		}},
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Numeric predicate, %d rows, one thread (%s)\n\n", n, time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "DuckDB %s, %s; %d rounds alternating the systems; CPU time of one query, median (min–max) over rounds.\n\n", version, runtime.Version(), rounds)
	b.WriteString("| width < W (share) | laiondb-store | duckdb | laiondb ÷ duckdb CPU, median (min–max) | counts agree |\n|---|---|---|---|---|\n")
	for _, w := range []int{208, 280, 600} {
		times := make([][]time.Duration, len(systems))
		counts := make([]int, len(systems))
		for i, sys := range systems { // warm: the first query reads the blocks
			if counts[i], err = sys.count(w); err != nil {
				return fmt.Errorf("%s: %w", sys.name, err)
			}
		}
		for r := range rounds {
			for k := range systems {
				i := k
				if r%2 == 1 {
					i = len(systems) - 1 - k
				}
				runtime.GC()
				c0 := cpuTime()
				c, err := systems[i].count(w)
				if err != nil {
					return fmt.Errorf("%s: %w", systems[i].name, err)
				}
				times[i] = append(times[i], cpuTime()-c0)
				if c != counts[i] {
					return fmt.Errorf("%s: count %d, then %d", systems[i].name, counts[i], c)
				}
			}
		}
		ratios := make([]float64, rounds)
		for r := range rounds {
			ratios[r] = times[0][r].Seconds() / times[1][r].Seconds()
		}
		slices.Sort(ratios)
		fmt.Fprintf(&b, "| %d (%.1f%%) | %s | %s | ×%.2f (%.2f–%.2f) | %v (%d) |\n", w, 100*float64(counts[0])/float64(n),
			medianMs(times[0], 2), medianMs(times[1], 2), ratios[rounds/2], ratios[0], ratios[rounds-1], counts[0] == counts[1], counts[0])
	}
	fmt.Print(b.String())
	return os.WriteFile(filepath.Join(out, fmt.Sprintf("pred-%d.md", n)), []byte(b.String()), 0o644)
}

// medianMs prints durations as their median and range in milliseconds,
// with prec decimals: "1.79 ms (1.65–4.47)".
func medianMs(ds []time.Duration, prec int) string {
	s := slices.Clone(ds)
	slices.Sort(s)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return fmt.Sprintf("%.*f ms (%.*f–%.*f)", prec, ms(s[len(s)/2]), prec, ms(s[0]), prec, ms(s[len(s)-1]))
}
