package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/laiondb/laiondb/audit"
	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/engine/enginetest"
	"github.com/laiondb/laiondb/query"
	"github.com/laiondb/laiondb/vector"
)

// nearTasks writes the near partials of every task of the shards of s cut
// at cut (cut[0] = 0, cut[m] = n), with o (o.Selection numbers the rows
// of s; each task gets its part), and returns the files.
func nearTasks(t testing.TB, s *enginetest.Store, cut []int, o audit.NearOptions) []audit.DupsFile {
	t.Helper()
	ctx := context.Background()
	m := len(cut) - 1
	var files []audit.DupsFile
	for k := 1; k <= m; k++ {
		for j := k; j <= m; j++ {
			sk := s.Rows(cut[k-1], cut[k])
			task, split := engine.Store(sk), sk.NumRows()
			sel := func(lo, hi int) []uint32 {
				var out []uint32
				for r := lo; r < hi; r++ {
					if o.Selection == nil || o.Selection.Contains(uint32(r)) {
						out = append(out, uint32(r-lo))
					}
				}
				return out
			}
			rows := sel(cut[k-1], cut[k])
			sj := sk
			if j > k {
				sj = s.Rows(cut[j-1], cut[j])
				u, err := engine.NewUnion(sk, sj)
				if err != nil {
					t.Fatal(err)
				}
				task = u
				for _, r := range sel(cut[j-1], cut[j]) {
					rows = append(rows, r+uint32(split))
				}
			}
			to := o
			if o.Selection != nil {
				to.Selection = vector.NewBitset(task.NumRows())
				for _, r := range rows {
					to.Selection.Set(r)
				}
			}
			var buf bytes.Buffer
			if _, err := audit.WriteNearPartial(ctx, &buf, task, &to, k, j, m, split, sk.Fingerprint(), sj.Fingerprint()); err != nil {
				t.Fatalf("task %d-%d of %d: %v", k, j, m, err)
			}
			files = append(files, audit.DupsFile{Name: fmt.Sprintf("near-%d-%d", k, j), R: bytes.NewReader(buf.Bytes())})
		}
	}
	slices.Reverse(files) // any order
	return files
}

// nearJSON is a near report as JSON without its plan, its scores
// computed (which count how the work was cut) and its fingerprint.
func nearJSON(t *testing.T, r *audit.NearReport) string {
	t.Helper()
	c := *r
	c.Plan, c.Scored, c.Fingerprint = nil, 0, ""
	b, err := json.MarshalIndent(&c, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestNearPartials: the planted near-duplicates (a chain, pairs just
// above and below the threshold, identical rows, a clique of 40) of a
// store cut into 1, 2, 5 and 7 shards, found task by task and merged,
// give the exact report of the whole store: pairs, rows near the
// threshold, groups, and the rows a dedup drops; in both spaces, with a
// selection, at another threshold.
func TestNearPartials(t *testing.T) {
	const n, th = 1500, 0.94
	vecs, rows := planted(n, th, 1)
	txt := slices.Clone(vecs)
	txt[rows["chain"][1]], txt[rows["pair"][0]] = nil, nil
	s := enginetest.New(n).SetVectors(vecs).SetTextVectors(txt)
	ctx := context.Background()
	sel := vector.NewBitset(n)
	for i := range n {
		if i != rows["chain"][1] && i != rows["clique"][5] {
			sel.Set(uint32(i))
		}
	}
	cuts := map[int][]int{1: {0, n}, 2: {0, 700, n}, 5: {0, 10, 400, 400, 1100, n}, 7: nil}
	for k := range 7 {
		cuts[7] = append(cuts[7], k*n/7)
	}
	cuts[7] = append(cuts[7], n)
	for _, o := range []audit.NearOptions{
		{},
		{Space: query.SpaceText},
		{Selection: sel, Where: "a selection", Threshold: 0.96},
	} {
		one := o
		one.Method, one.KeepRows = audit.NearExact, true
		want, err := audit.NearDuplicates(ctx, s, &one)
		if err != nil {
			t.Fatal(err)
		}
		if want.Groups < 3 {
			t.Fatalf("%+v: %d groups: a poor test", o, want.Groups)
		}
		for m, cut := range cuts {
			got, err := audit.MergeNear(nearTasks(t, s, cut, o), true)
			if err != nil {
				t.Fatalf("%d shards: %v", m, err)
			}
			if g, w := nearJSON(t, got), nearJSON(t, want); g != w {
				t.Fatalf("%d shards, %+v: merged\n%s\none store\n%s", m, o.Space, g, w)
			}
			if !slices.Equal(got.Drop, want.Drop) || !slices.Equal(got.Kept, want.Kept) {
				t.Fatalf("%d shards: the rows a dedup drops differ", m)
			}
			var parts []engine.Store
			for k := 1; k < len(cut); k++ {
				parts = append(parts, s.Rows(cut[k-1], cut[k]))
			}
			u, _ := engine.NewUnion(parts...)
			if got.Fingerprint != u.Fingerprint() || got.Scored == 0 {
				t.Errorf("%d shards: fingerprint %s, the union's %s; scored %d", m, got.Fingerprint, u.Fingerprint(), got.Scored)
			}
		}
	}
}

// TestNearPartialsRefused: a merge refuses a missing task, a task twice,
// tasks of other thresholds, spaces or shard counts, tasks that saw a
// shard differently, and damaged files; the index method is refused.
func TestNearPartialsRefused(t *testing.T) {
	const n = 600
	vecs, _ := planted(n, 0.94, 2)
	s := enginetest.New(n).SetVectors(vecs)
	cut := []int{0, 200, 450, n}
	files := nearTasks(t, s, cut, audit.NearOptions{})
	read := func(f audit.DupsFile) []byte {
		b := new(bytes.Buffer)
		b.ReadFrom(f.R)
		return b.Bytes()
	}
	raw := make([][]byte, len(files))
	for i, f := range files {
		raw[i] = read(f)
	}
	with := func(i int, b []byte) []audit.DupsFile {
		out := make([]audit.DupsFile, 0, len(raw))
		for j, r := range raw {
			if j == i {
				r = b
			}
			if r != nil {
				out = append(out, audit.DupsFile{Name: files[j].Name, R: bytes.NewReader(r)})
			}
		}
		return out
	}
	if _, err := audit.MergeNear(with(-1, nil), false); err != nil {
		t.Fatal(err)
	}
	other := nearTasks(t, s, cut, audit.NearOptions{Threshold: 0.95})
	otherRaw := read(other[0])
	pairs := 0 // the task with the most pairs
	for i, r := range raw {
		if len(r) > len(raw[pairs]) {
			pairs = i
		}
	}
	// Another digest in the header: the pairs no longer match it.
	damaged := slices.Clone(raw[pairs])
	i := bytes.Index(damaged, []byte(`"records_sha256":"`)) + len(`"records_sha256":"`)
	damaged[i] = "10"[min(1, int(damaged[i]-'0'))]
	for _, c := range []struct {
		files []audit.DupsFile
		want  string
	}{
		{with(0, []byte{}), "not a near-duplicate partial"},
		{append(with(-1, nil), audit.DupsFile{Name: "again", R: bytes.NewReader(raw[1])}), "given twice"},
		{with(2, nil)[:0], "nothing to merge"},
		{with(0, otherRaw), "compares image embeddings at"},
		{with(pairs, damaged), "do not match their digest"},
		{with(pairs, raw[pairs][:len(raw[pairs])-3]), "truncated"},
		{with(pairs, append(slices.Clone(raw[pairs]), 0)), "bytes past"},
	} {
		if _, err := audit.MergeNear(c.files, false); !errors.Is(err, audit.ErrDupsPartial) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("want an error with %q, got %v", c.want, err)
		}
	}
	var missing []audit.DupsFile
	for i, f := range files {
		if f.Name != "near-2-3" {
			missing = append(missing, audit.DupsFile{Name: f.Name, R: bytes.NewReader(raw[i])})
		}
	}
	if _, err := audit.MergeNear(missing, false); err == nil || !strings.Contains(err.Error(), "missing: shards 2 and 3") {
		t.Errorf("a missing task: %v", err)
	}
	// A task that saw shard 3 with other rows.
	cut2 := []int{0, 200, 450, n - 1}
	short := nearTasks(t, s.Rows(0, n-1), cut2, audit.NearOptions{})
	for i, f := range files {
		if f.Name == "near-3-3" {
			for _, g := range short {
				if g.Name == "near-3-3" {
					raw[i] = read(g)
				}
			}
		}
	}
	if _, err := audit.MergeNear(with(-1, nil), false); err == nil || !strings.Contains(err.Error(), "every task must read the same shard stores") {
		t.Errorf("shards seen differently: %v", err)
	}
	var buf bytes.Buffer
	if _, err := audit.WriteNearPartial(context.Background(), &buf, s, &audit.NearOptions{Method: audit.NearIndex}, 1, 1, 1, n, "", ""); !errors.Is(err, audit.ErrDupsPartial) {
		t.Errorf("the index method: %v", err)
	}
}

// FuzzMergeNear: a near partial file as found on disk, however damaged, is
// merged with the other tasks' without a panic: an error, or a report
// whose counts hold together. The seed is the task between shards 1 and 2
// of 3, with pairs; the fuzzer changes it.
func FuzzMergeNear(f *testing.F) {
	vecs, _ := planted(600, 0.94, 3)
	s := enginetest.New(600).SetVectors(vecs)
	files := nearTasks(f, s, []int{0, 200, 450, 600}, audit.NearOptions{})
	raw := map[string][]byte{}
	for _, df := range files {
		var b bytes.Buffer
		b.ReadFrom(df.R)
		raw[df.Name] = b.Bytes()
	}
	f.Add(raw["near-1-2"])
	f.Fuzz(func(t *testing.T, mid []byte) {
		var in []audit.DupsFile
		for name, b := range raw {
			if name == "near-1-2" {
				b = mid
			}
			in = append(in, audit.DupsFile{Name: name, R: bytes.NewReader(b)})
		}
		r, err := audit.MergeNear(in, true)
		if err == nil && (r.Rows > r.StoreRows || r.Duplicates >= r.Rows && r.Rows > 0 || len(r.Drop) != r.Duplicates) {
			t.Fatalf("merged %d rows of %d with %d duplicates, %d dropped", r.Rows, r.StoreRows, r.Duplicates, len(r.Drop))
		}
	})
}
