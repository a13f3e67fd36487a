package audit_test

import (
	"context"
	"fmt"
	"os"

	"github.com/laiondb/laiondb/audit"
	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/engine/enginetest"
	"github.com/laiondb/laiondb/query"
)

// memStore runs queries on an in-memory store; *laiondb.Store is the
// Querier of a real one.
type memStore struct{ *enginetest.Store }

func (m memStore) Query(ctx context.Context, q string, opts *engine.Options) (*engine.Result, error) {
	pq, err := query.Parse(q)
	if err != nil {
		return nil, err
	}
	return engine.Run(ctx, m.Store, pq, opts)
}

func (m memStore) Columns() []string {
	var out []string
	for _, c := range m.Store.Columns() {
		out = append(out, c.Name)
	}
	return out
}

func ExampleRun() {
	s := enginetest.Generate(2000, 8, 1) // 2,000 LAION-like rows; 'beautiful' has a vector
	rep, err := audit.Run(context.Background(), memStore{s}, &audit.Options{Terms: []string{"beautiful"}, K: 10})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, v := range rep.Terms[0].Views {
		fmt.Printf("%-12s %5d rows, %d UNLIKELY\n", v.Kind, v.Selected, v.Count("UNLIKELY", false))
	}
	if err := rep.WriteDir(os.TempDir() + "/laiondb-audit-example"); err != nil { // report.md, report.html, results.json
		fmt.Println(err)
	}
	// Output:
	// knn             10 rows, 6 UNLIKELY
	// knn filtered    10 rows, 10 UNLIKELY
	// contains       209 rows, 165 UNLIKELY
	// word           209 rows, 165 UNLIKELY
}

func ExampleNearDuplicates() {
	s := enginetest.New(6).SetVectors([][]float32{
		{1, 0, 0},
		{0, 1, 0},
		{0.98, 0.199, 0}, // cosine 0.98 to row 0
		{0, 0, 1},
		{0.9, 0.436, 0}, // 0.97 to row 2, 0.90 to row 0: one group through row 2
		{0, 0.05, 1},    // 0.999 to row 3
	})
	r, err := audit.NearDuplicates(context.Background(), s, &audit.NearOptions{KeepRows: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s, exact %v: %d pairs at cosine >= %v, %d groups, %d duplicates\n", r.Method, r.Exact, r.Pairs, r.Threshold, r.Groups, r.Duplicates)
	for i, row := range r.Drop {
		fmt.Printf("drop row %d, keep row %d\n", row, r.Kept[i])
	}
	// Output:
	// exact, exact true: 3 pairs at cosine >= 0.94, 2 groups, 3 duplicates
	// drop row 2, keep row 0
	// drop row 4, keep row 0
	// drop row 5, keep row 3
}
