package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/laiondb/laiondb/db"
	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/query"
)

// textIndexQueries are the needles and lexicon timed by textIndexBench:
// laiondb's query and DuckDB's, which count the same rows. laiondb's also
// computes the statistics of 'all' (NSFW labels, the essay's lexicon in
// TEXT and URL, ...); DuckDB's only counts by NSFW.
var textIndexQueries = []struct{ name, laiondb, duckdb string }{
	{"'bhabhi'", "all where text contains 'bhabhi'", "contains(lower(TEXT), 'bhabhi')"},
	{"'istanbul'", "all where text contains 'istanbul'", "contains(lower(TEXT), 'istanbul')"},
	{"'desi'", "all where text contains 'desi'", "contains(lower(TEXT), 'desi')"},
	{"essay2021 in TEXT", "all where text lexicon essay2021", essayDuck()},
}

func essayDuck() string {
	var or []string
	for _, k := range engine.Essay2021 {
		or = append(or, fmt.Sprintf("contains(lower(TEXT), '%s')", k))
	}
	return "(" + strings.Join(or, " OR ") + ")"
}

// scanOnly hides a store's text index: its where clauses are scanned.
type scanOnly struct{ engine.Store }

// textIndexBench times text predicates on the store in storeDir (with a
// trigram index of TEXT) through the index, by a scan of the same store,
// and in DuckDB (default threads) on a table loaded from the parquet parts
// in parts; rounds alternate the three, and each query's CPU time
// (getrusage, every thread) is reported as the median and range over
// rounds, with the ratios to the index's, round by round. Each query
// starts after a GC that returns the freed memory to the system
// (debug.FreeOSMemory; else Go's scavenger returns a scan's hundreds of MB
// while the next query runs, about 16 ms of CPU charged to it), on an idle
// process (settle): the CPU a system spends after returning is reported
// beside the table, not charged to the next query. So each query pays for
// the pages its allocations touch, as in a process of its own.
func textIndexBench(ctx context.Context, storeDir, parts, out string, rounds int) error {
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
	t0 := time.Now()
	if _, err := duck.Exec(fmt.Sprintf("CREATE TABLE t AS SELECT TEXT, NSFW FROM read_parquet('%s')", filepath.Join(parts, "*.parquet"))); err != nil {
		return fmt.Errorf("duckdb load: %w", err)
	}
	fmt.Fprintf(os.Stderr, "duckdb: loaded in %v\n", time.Since(t0).Round(time.Second))
	var threads string
	_ = duck.QueryRow("SELECT current_setting('threads')").Scan(&threads)
	_, ftsErr := duck.Exec("LOAD fts")
	type system struct {
		name  string
		count func(i int) (int, error)
	}
	laion := func(st engine.Store) func(i int) (int, error) {
		return func(i int) (int, error) {
			res, err := engine.Run(ctx, st, query.MustParse(textIndexQueries[i].laiondb), nil)
			if err != nil {
				return 0, err
			}
			return res.Selected, nil
		}
	}
	systems := []system{
		{"laiondb, index", laion(s)},
		{"laiondb, scan", laion(scanOnly{s})},
		{"duckdb", func(i int) (int, error) {
			rows, err := duck.Query("SELECT NSFW, count(*) FROM t WHERE " + textIndexQueries[i].duckdb + " GROUP BY NSFW")
			if err != nil {
				return 0, err
			}
			defer rows.Close()
			total := 0
			for rows.Next() {
				var label sql.NullString
				var c int
				if err := rows.Scan(&label, &c); err != nil {
					return 0, err
				}
				total += c
			}
			return total, rows.Err()
		}},
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Text predicates: laiondb's trigram index, its scan, DuckDB (%s)\n\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "Store %s (%d rows); DuckDB %s with %s threads, a table of TEXT and NSFW loaded from %s; its FTS extension: %v. %s, GOMAXPROCS %d; %d rounds alternating the systems; CPU time of one query, median (min–max) over rounds; load average %s.\n\n",
		storeDir, s.NumRows(), version, threads, parts, errOr(ftsErr, "loaded"), runtime.Version(), runtime.GOMAXPROCS(0), rounds, loadavg())
	var idle strings.Builder
	b.WriteString("| query | rows | laiondb, index | laiondb, scan | DuckDB | scan ÷ index | DuckDB ÷ index |\n|---|---|---|---|---|---|---|\n")
	for qi, q := range textIndexQueries {
		times := make([][]time.Duration, len(systems))
		after := make([][]time.Duration, len(systems)) // CPU spent after returning, before the process is idle
		counts := make([]int, len(systems))
		for i, sys := range systems { // warm
			if counts[i], err = sys.count(qi); err != nil {
				return fmt.Errorf("%s: %w", sys.name, err)
			}
		}
		if counts[0] != counts[1] || counts[0] != counts[2] {
			return fmt.Errorf("%s: counts differ: %v", q.name, counts)
		}
		for r := range rounds {
			for k := range systems {
				i := (k + r) % len(systems)
				debug.FreeOSMemory() // a GC, and the freed memory returned now, not while the next query runs
				c0 := cpuTime()
				c, err := systems[i].count(qi)
				if err != nil {
					return fmt.Errorf("%s: %w", systems[i].name, err)
				}
				times[i] = append(times[i], cpuTime()-c0)
				after[i] = append(after[i], settle())
				if c != counts[i] {
					return fmt.Errorf("%s: count %d, then %d", systems[i].name, counts[i], c)
				}
			}
			fmt.Fprintf(os.Stderr, "%s round %d: %v %v %v (after returning: %v %v %v)\n", q.name, r, times[0][r], times[1][r], times[2][r], after[0][r], after[1][r], after[2][r])
		}
		ratio := func(i int) string {
			rs := make([]float64, rounds)
			for r := range rounds {
				rs[r] = times[i][r].Seconds() / times[0][r].Seconds()
			}
			slices.Sort(rs)
			return fmt.Sprintf("×%.0f (%.0f–%.0f)", rs[rounds/2], rs[0], rs[rounds-1])
		}
		fmt.Fprintf(&b, "| `%s` | %d | %s | %s | %s | %s | %s |\n", q.laiondb, counts[0], medianMs(times[0], 1), medianMs(times[1], 1), medianMs(times[2], 1), ratio(1), ratio(2))
		fmt.Fprintf(&idle, "- `%s`: %s, %s, %s\n", q.laiondb, medianMs(after[0], 1), medianMs(after[1], 1), medianMs(after[2], 1))
	}
	b.WriteString("\nCPU spent after returning, until the process was idle (not in the table), median (min–max): laiondb through the index, by a scan, DuckDB:\n\n")
	b.WriteString(idle.String())
	fmt.Print(b.String())
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "textindex.md"), []byte(b.String()), 0o644)
}

func errOr(err error, ok string) string {
	if err != nil {
		return "not loaded (" + err.Error() + ")"
	}
	return ok
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}
