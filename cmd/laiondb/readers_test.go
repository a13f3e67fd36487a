package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/laiondb/laiondb/demodata"
)

// The test binary is also the laiondb binary when LAIONDB_TEST_AS_CLI is
// set, so that tests can run it as separate processes.
func init() {
	if os.Getenv("LAIONDB_TEST_AS_CLI") == "" {
		return
	}
	e := &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}
	os.Exit(run(e, os.Args[1:]))
}

func cliProcess(args ...string) *exec.Cmd {
	c := exec.Command(os.Args[0], args...)
	c.Env = append(os.Environ(), "LAIONDB_TEST_AS_CLI=1")
	return c
}

// TestQueryDuringIngest runs `laiondb ingest` of several LAION parts in one
// process and polls `laiondb query --format json` from others until it
// ends: every poll answers, and the row counts it reports only ever step
// from one committed total (a whole number of parts) to the next; at each
// new total, `laiondb info` and `laiondb check` succeed too. The
// ingest is 200,000 rows in 8 parts; LAIONDB_LONG=1 makes it 1,000,000 in
// 16.
func TestQueryDuringIngest(t *testing.T) {
	if testing.Short() {
		t.Skip("ingests 200,000 rows")
	}
	parts, rows := 8, 25_000
	if os.Getenv("LAIONDB_LONG") != "" {
		parts, rows = 16, 62_500
	}
	tmp := t.TempDir()
	if _, _, err := demodata.LAION400M(filepath.Join(tmp, "parts"), demodata.Config{Seed: 9, Parts: parts, Rows: rows}); err != nil {
		t.Fatal(err)
	}
	store := filepath.Join(tmp, "store")
	totals := []int64{0}
	for i := 1; i <= parts; i++ {
		totals = append(totals, int64(i*rows))
	}
	w := cliProcess("ingest", "--store", store, filepath.Join(tmp, "parts"))
	var wout bytes.Buffer
	w.Stdout, w.Stderr = &wout, &wout
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- w.Wait() }()

	var seen []int64
	polls := 0
	var werr error
poll:
	for {
		select {
		case werr = <-done:
			break poll
		default:
		}
		if _, err := os.Stat(filepath.Join(store, "MANIFEST.json")); err != nil {
			time.Sleep(10 * time.Millisecond) // the ingest has not created the store yet
			continue
		}
		r := cliProcess("query", "--store", store, "--format", "json", "all")
		var out, errs bytes.Buffer
		r.Stdout, r.Stderr = &out, &errs
		if err := r.Run(); err != nil {
			t.Fatalf("poll %d: query failed during the ingest: %v\n%s", polls, err, errs.String())
		}
		polls++
		var res struct {
			TotalRows   int64  `json:"total_rows"`
			Fingerprint string `json:"fingerprint"`
		}
		if err := json.Unmarshal(out.Bytes(), &res); err != nil {
			t.Fatalf("poll %d: %v\n%s", polls, err, out.String())
		}
		if !slices.Contains(totals, res.TotalRows) {
			t.Fatalf("poll %d saw %d rows: not a committed total (%v)", polls, res.TotalRows, totals)
		}
		if n := len(seen); n > 0 && res.TotalRows < seen[n-1] {
			t.Fatalf("poll %d saw %d rows after %d", polls, res.TotalRows, seen[n-1])
		}
		if n := len(seen); n == 0 || seen[n-1] != res.TotalRows {
			seen = append(seen, res.TotalRows)
			// info and check read the store too.
			for _, args := range [][]string{{"info", "--store", store}, {"check", "--store", store}} {
				c := cliProcess(args...)
				if out, err := c.CombinedOutput(); err != nil {
					t.Fatalf("%s during the ingest: %v\n%s", args[0], err, out)
				}
			}
		}
	}
	if werr != nil {
		t.Fatalf("ingest: %v\n%s", werr, wout.String())
	}
	// After the ingest, one more read sees everything.
	r := cliProcess("query", "--store", store, "--format", "json", "all")
	out, err := r.Output()
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		TotalRows int64 `json:"total_rows"`
	}
	if err := json.Unmarshal(out, &res); err != nil || res.TotalRows != int64(parts*rows) {
		t.Fatalf("after the ingest: %s %v", out, err)
	}
	var between []string
	for _, n := range seen {
		if n > 0 && n < int64(parts*rows) {
			between = append(between, strconv.FormatInt(n, 10))
		}
	}
	t.Logf("%d polls during the ingest saw row counts %v", polls, seen)
	if len(between) == 0 {
		t.Errorf("no poll saw the ingest between its start and its end (%d polls: %v): the test did not test reading during an ingest", polls, seen)
	}
}
