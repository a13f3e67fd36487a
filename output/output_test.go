package output_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

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
