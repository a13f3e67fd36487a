package output_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/engine/enginetest"
	"github.com/laiondb/laiondb/output"
	"github.com/laiondb/laiondb/query"
)

// TestZeroRowRates: a share of no rows is undefined, and every format says
// so rather than printing 0% [0%, 0%].
func TestZeroRowRates(t *testing.T) {
	s := enginetest.Generate(200, 0, 1)
	res, err := engine.Run(context.Background(), s, query.MustParse("all where text contains 'no such text at all'"), nil)
	if err != nil || res.Selected != 0 {
		t.Fatalf("selected %d: %v", res.Selected, err)
	}
	var tb bytes.Buffer
	if err := output.WriteTable(&tb, res); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(tb.String(), "0.00% [0.00%") || !strings.Contains(tb.String(), "–") {
		t.Errorf("table shows a rate over zero rows:\n%s", tb.String())
	}
	var jb bytes.Buffer
	if err := output.WriteJSON(&jb, res); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Lexicons []struct {
			Either map[string]any `json:"either"`
		} `json:"lexicons"`
	}
	if err := json.Unmarshal(jb.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	e := doc.Lexicons[0].Either
	if e["share"] != nil || e["lo"] != nil || e["hi"] != nil || e["of"] != float64(0) {
		t.Errorf("JSON either = %v, want null share, lo and hi of 0 rows", e)
	}
	var cb bytes.Buffer
	if err := output.WriteCSV(&cb, res); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&cb).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range recs {
		if r[0] == "lexicon" && r[3] == "either" {
			found = true
			if r[4] != "0" || r[5] != "" || r[6] != "" || r[7] != "" {
				t.Errorf("CSV either row = %q, want empty share and interval", r)
			}
		}
	}
	if !found {
		t.Error("CSV has no lexicon either row")
	}
}

// TestCSVPandas: a plain pandas.read_csv of the CSV keeps every nsfw
// category apart: UNLIKELY, the real label None, the empty label and null.
func TestCSVPandas(t *testing.T) {
	const py = "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import pandas").Run(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("pandas is needed under CI (scripts/install-oracle.sh installs it): %v", err)
		}
		t.Skipf("no pandas for %s (scripts/install-oracle.sh installs it): %v", py, err)
	}
	s := enginetest.Generate(2000, 0, 1)
	res, err := engine.Run(context.Background(), s, query.MustParse("all"), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{}
	for _, v := range res.NSFW.All() {
		k := v.Value
		if v.Null {
			k = "<null>"
		}
		want[k] = v.Count
	}
	if want["None"] == 0 || want[""] == 0 || want["<null>"] == 0 {
		t.Fatalf("the generated rows lack a category: %v", want)
	}
	path := filepath.Join(t.TempDir(), "res.csv")
	var b bytes.Buffer
	if err := output.WriteCSV(&b, res); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(path, b.Bytes(), 0o644)
	script := `
import json, sys, pandas as pd
d = pd.read_csv(sys.argv[1])
lab = d[(d.section == "label") & (d.group == "nsfw")]
out = {}
for _, r in lab.iterrows():
    k = "<null>" if r.field == "is_null" else json.loads(r.key)
    out[k] = int(r["count"])
print(json.dumps(out))
`
	got, err := exec.Command(py, "-c", script, path).Output()
	if err != nil {
		t.Fatalf("pandas: %v", err)
	}
	var counts map[string]int
	if err := json.Unmarshal(got, &counts); err != nil {
		t.Fatalf("%v: %s", err, got)
	}
	if len(counts) != len(want) {
		t.Errorf("pandas read %v, want %v", counts, want)
	}
	for k, n := range want {
		if counts[k] != n {
			t.Errorf("pandas: %q × %d, want %d", k, counts[k], n)
		}
	}
}

// TestWideCells: one long value does not widen every line of the table;
// JSON keeps it whole.
func TestWideCells(t *testing.T) {
	n := 50
	urls := make([]string, n)
	for i := range urls {
		urls[i] = fmt.Sprintf("https://x/%d", i)
	}
	urls[7] = "https://example.com/" + strings.Repeat("very-long-path/", 200)
	s := enginetest.New(n).AddStrings("url", urls, nil)
	res, err := engine.Run(context.Background(), s, query.MustParse("all by url"), nil)
	if err != nil {
		t.Fatal(err)
	}
	var tb bytes.Buffer
	output.WriteTable(&tb, res)
	for _, l := range strings.Split(tb.String(), "\n") {
		if utf8.RuneCountInString(l) > 200 {
			t.Fatalf("table line of %d characters: %.120s…", utf8.RuneCountInString(l), l)
		}
	}
	if !strings.Contains(tb.String(), "…") {
		t.Error("the long value is not marked as cut")
	}
	var jb bytes.Buffer
	output.WriteJSON(&jb, res)
	if !strings.Contains(jb.String(), urls[7]) {
		t.Error("JSON lost the full value")
	}
}

// TestStringSimilarityNote: a similarity column of strings gets no
// distribution, and every format says why.
func TestStringSimilarityNote(t *testing.T) {
	s := enginetest.New(3).AddStrings("similarity", []string{"0.3", "0.4", "x"}, nil)
	res, err := engine.Run(context.Background(), s, query.MustParse("all"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Similarity != nil || len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "string values, not numbers") {
		t.Fatalf("similarity %+v, notes %q", res.Similarity, res.Notes)
	}
	for name, w := range map[string]func(io.Writer, *engine.Result) error{"table": output.WriteTable, "json": output.WriteJSON, "csv": output.WriteCSV} {
		var b bytes.Buffer
		w(&b, res)
		if !strings.Contains(b.String(), "not numbers") {
			t.Errorf("%s output does not say why similarity is missing:\n%s", name, b.String())
		}
	}
}

// TestRowsWithoutNSFW: printed rows of a store without an nsfw column do
// not show one full of (null).
func TestRowsWithoutNSFW(t *testing.T) {
	s := enginetest.New(3).AddStrings("text", []string{"a", "b", "c"}, nil).AddStrings("url", []string{"u", "v", "w"}, nil)
	res, err := engine.Run(context.Background(), s, query.MustParse("all"), &engine.Options{Rows: engine.AllRows})
	if err != nil || len(res.Rows) != 3 {
		t.Fatalf("%v, %d rows", err, len(res.Rows))
	}
	var b bytes.Buffer
	output.WriteTable(&b, res)
	if strings.Contains(b.String(), "nsfw") || strings.Contains(b.String(), "(null)") {
		t.Errorf("rows show an nsfw column the store lacks:\n%s", b.String())
	}
}

// TestGroupsNotListed: a "by" that lists only some of its values says, in
// every format, how many values there are and how many rows the others
// hold.
func TestGroupsNotListed(t *testing.T) {
	s := enginetest.New(6).AddStrings("k", []string{"a", "b", "a", "c", "d", ""}, []bool{false, false, false, false, false, true})
	res, err := engine.Run(context.Background(), s, query.MustParse("all by k"), &engine.Options{Groups: 2})
	if err != nil {
		t.Fatal(err)
	}
	lc := res.By[0]
	if len(lc.Values) != 3 || lc.Groups != 5 || lc.OtherRows != 2 {
		t.Fatalf("by k, 2 groups: %+v", lc)
	}
	want := map[string][]string{
		"table": {"(2 other values)  2", "5 distinct values"},
		"json":  {`"groups": 5`, `"other_rows": 2`},
		"csv":   {"label,k,,groups,5", "label,k,,other_rows,2"},
	}
	for name, w := range map[string]func(io.Writer, *engine.Result) error{"table": output.WriteTable, "json": output.WriteJSON, "csv": output.WriteCSV} {
		var b bytes.Buffer
		if err := w(&b, res); err != nil {
			t.Fatal(err)
		}
		for _, s := range want[name] {
			if !strings.Contains(b.String(), s) {
				t.Errorf("%s output lacks %q:\n%s", name, s, b.String())
			}
		}
	}
}
