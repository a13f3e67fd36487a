package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/laiondb/laiondb"
	"github.com/laiondb/laiondb/db"
	"github.com/laiondb/laiondb/demodata"
	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/export"
	"github.com/laiondb/laiondb/output"
	"github.com/laiondb/laiondb/server"
)

// newStore ingests a generated clip-retrieval folder (parts of rows rows,
// 32-d embeddings) into dir and returns the folder's part paths.
func newStore(t testing.TB, dir string, parts, rows int, seed uint64) []db.Source {
	t.Helper()
	src := filepath.Join(t.TempDir(), "emb")
	if _, err := demodata.EmbeddingFolder(src, demodata.Config{Seed: seed, Parts: parts, Rows: rows, Dim: 32}); err != nil {
		t.Fatal(err)
	}
	srcs, err := db.ExpandPaths([]string{src})
	if err != nil {
		t.Fatal(err)
	}
	return srcs
}

func ingest(t testing.TB, dir string, srcs []db.Source) {
	t.Helper()
	d, err := db.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.Ingest(context.Background(), srcs, nil); err != nil {
		t.Fatal(err)
	}
}

type fixture struct {
	t     *testing.T
	srv   *server.Server
	hs    *httptest.Server
	dir   string
	token string
}

func newFixture(t *testing.T, o *server.Options) *fixture {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "store")
	ingest(t, dir, newStore(t, dir, 2, 300, 5))
	opts := server.Options{}
	if o != nil {
		opts = *o
	}
	opts.Indexes = []server.Index{{Name: "demo", Dir: dir}}
	srv, err := server.New(&opts)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() { hs.Close(); srv.Close() })
	return &fixture{t: t, srv: srv, hs: hs, dir: dir, token: opts.Token}
}

// do sends a request and returns the status, the body and the response.
func (f *fixture) do(method, path, body string) (int, []byte, *http.Response) {
	f.t.Helper()
	req, err := http.NewRequest(method, f.hs.URL+path, strings.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	if f.token != "" {
		req.Header.Set("Authorization", "Bearer "+f.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp
}

// clipBody is a request as clip-retrieval's ClipClient sends it: every
// field, nulls for the inputs not used, num_result_ids = num_images, and
// its defaults (dedup, safety model, violence detector, aesthetics on).
func clipBody(input string, numImages int, extra string) string {
	inputs := map[string]string{"text": "null", "image": "null", "image_url": "null", "embedding_input": "null"}
	k, v, _ := strings.Cut(input, "=")
	inputs[k] = v
	return fmt.Sprintf(`{"text": %s, "image": %s, "image_url": %s, "embedding_input": %s, "deduplicate": true,
		"use_safety_model": true, "use_violence_detector": true, "indice_name": "demo", "use_mclip": false,
		"aesthetic_score": 9, "aesthetic_weight": 0.5, "modality": "image", "num_images": %d, "num_result_ids": %d%s}`,
		inputs["text"], inputs["image"], inputs["image_url"], inputs["embedding_input"], numImages, numImages, extra)
}

// rowVector returns row r's image embedding as a JSON array.
func rowVector(t *testing.T, dir string, r int) string {
	st, err := laiondb.Open(dir, &laiondb.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	res, err := st.Query(context.Background(), fmt.Sprintf("knn(row(%d), 1)", r), nil)
	if err != nil || len(res.Hits) != 1 {
		t.Fatal(err)
	}
	snap, _ := st.Snapshot()
	rv := snap.(engine.RowVectorer)
	vs, err := rv.RowVectors(context.Background(), []uint32{uint32(r)}, 0)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(vs[0])
	return string(b)
}

// TestKnnServiceAsClipClient sends ClipClient's request and checks the
// answer against the same search run as a laiondb query: ids are store
// rows, in score order, the first num_images with url, caption and NSFW.
func TestKnnServiceAsClipClient(t *testing.T) {
	f := newFixture(t, nil)
	vec := rowVector(t, f.dir, 17)
	code, body, resp := f.do("POST", "/knn-service", clipBody("embedding_input="+vec, 5, ""))
	if code != 200 {
		t.Fatalf("%d: %s", code, body)
	}
	if got := resp.Header.Get(server.IgnoredHeader); got != "use_safety_model, use_violence_detector, aesthetic_score, aesthetic_weight" {
		t.Errorf("ignored header %q", got)
	}
	var out []map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		t.Fatal(err)
	}
	st, err := laiondb.Open(f.dir, &laiondb.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	want, err := st.Query(context.Background(), "knn("+vec+", 5) dedup", &engine.Options{Rows: 5, Columns: []string{"url", "text", "nsfw"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 5 || len(want.Hits) != 5 {
		t.Fatalf("%d results, want 5: %s", len(out), body)
	}
	for i, o := range out {
		id, _ := o["id"].(json.Number).Int64()
		sim, _ := o["similarity"].(json.Number).Float64()
		if uint32(id) != want.Hits[i].Row || float32(sim) != want.Hits[i].Score {
			t.Errorf("result %d: id %d similarity %v, want %d %v", i, id, sim, want.Hits[i].Row, want.Hits[i].Score)
		}
		row := want.Rows[i]
		for key, col := range map[string]string{"url": "url", "caption": "text", "NSFW": "nsfw"} {
			w := row.Columns[col]
			if g, ok := o[key]; (w == nil) != (g == nil) || ok && w != nil && g != *w {
				t.Errorf("result %d: %s = %v, want %v", i, key, g, w)
			}
		}
	}
	if out[0]["id"].(json.Number).String() != "17" {
		t.Errorf("the row's own vector does not find it first: %v", out[0])
	}
	// num_images < num_result_ids: only the first carry metadata.
	code, body, _ = f.do("POST", "/knn-service", strings.Replace(clipBody("embedding_input="+vec, 2, ""), `"num_result_ids": 2`, `"num_result_ids": 6`, 1))
	out = nil
	if code != 200 || json.Unmarshal(body, &out) != nil || len(out) != 6 {
		t.Fatalf("%d: %s", code, body)
	}
	for i, o := range out {
		if _, has := o["url"]; has != (i < 2) || len(o) != map[bool]int{true: 5, false: 2}[i < 2] {
			t.Errorf("result %d: %v", i, o)
		}
	}
}

// TestKnnServiceExtensions: where before the top K (never fewer rows than
// asked when enough match), threshold, count_only, modality text.
func TestKnnServiceExtensions(t *testing.T) {
	f := newFixture(t, nil)
	vec := rowVector(t, f.dir, 3)
	st, err := laiondb.Open(f.dir, &laiondb.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, tc := range []struct{ extra, q string }{
		{`, "where": "nsfw = 'UNLIKELY'"`, "knn(" + vec + ", 20) dedup where nsfw = 'UNLIKELY'"},
		{`, "threshold": 0.2, "deduplicate": false`, "within(" + vec + ", 0.2) limit 20"},
		{`, "modality": "text", "deduplicate": false`, "knn(" + vec + ", 20) in text"},
	} {
		body := clipBody("embedding_input="+vec, 20, tc.extra)
		body = strings.Replace(body, `"deduplicate": true,`, "", strings.Count(tc.extra, "deduplicate"))
		body = strings.Replace(body, `"modality": "image",`, "", strings.Count(tc.extra, "modality"))
		code, b, _ := f.do("POST", "/knn-service", body)
		var out []struct {
			ID         uint32  `json:"id"`
			Similarity float64 `json:"similarity"`
		}
		if code != 200 || json.Unmarshal(b, &out) != nil {
			t.Fatalf("%s: %d %s", tc.extra, code, b)
		}
		want, err := st.Query(context.Background(), tc.q, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(out) != len(want.Hits) || len(out) == 0 {
			t.Fatalf("%s: %d results, want %d", tc.extra, len(out), len(want.Hits))
		}
		for i := range out {
			if out[i].ID != want.Hits[i].Row || float32(out[i].Similarity) != want.Hits[i].Score {
				t.Errorf("%s: result %d = %+v, want %+v", tc.extra, i, out[i], want.Hits[i])
			}
		}
	}
	code, b, _ := f.do("POST", "/knn-service", clipBody("embedding_input="+vec, 20, `, "threshold": 0.2, "count_only": true`))
	var c struct {
		Count int
		Exact bool
	}
	want, _ := st.Query(context.Background(), "within("+vec+", 0.2) dedup limit 20", nil)
	if code != 200 || json.Unmarshal(b, &c) != nil || c.Count != want.Selected || !c.Exact {
		t.Errorf("count_only: %d %s, want %d", code, b, want.Selected)
	}
}

// TestMetadataAndAPIQuery: /metadata answers typed values by id;
// /api/query answers the document 'laiondb query --format json' prints.
func TestMetadataAndAPIQuery(t *testing.T) {
	f := newFixture(t, &server.Options{Columns: []string{"url", "text", "nsfw", "similarity"}})
	code, b, _ := f.do("POST", "/metadata", `{"ids": [5, 0, 599], "indice_name": "demo"}`)
	var meta []struct {
		ID       int64          `json:"id"`
		Metadata map[string]any `json:"metadata"`
	}
	if code != 200 || json.Unmarshal(b, &meta) != nil || len(meta) != 3 || meta[0].ID != 5 || meta[2].ID != 599 {
		t.Fatalf("%d: %s", code, b)
	}
	st, err := laiondb.Open(f.dir, &laiondb.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	snap, _ := st.Snapshot()
	fetched, err := snap.Fetch(context.Background(), []uint32{5, 0, 599}, []string{"url", "text", "similarity"})
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range meta {
		if u := fetched.Cols["url"]; string(u.Str.At(i)) != m.Metadata["url"] {
			t.Errorf("id %d: url %v, want %s", m.ID, m.Metadata["url"], u.Str.At(i))
		}
		if s := fetched.Cols["similarity"]; !s.IsNull(i) && m.Metadata["similarity"] != s.Float[i] {
			t.Errorf("id %d: similarity %v, want %v", m.ID, m.Metadata["similarity"], s.Float[i])
		}
	}
	q := "all where text contains 'a' by nsfw sweep similarity"
	code, b, _ = f.do("POST", "/api/query", `{"query": "`+q+`", "rows": 3}`)
	res, err := st.Query(context.Background(), q, &engine.Options{Rows: 3})
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	output.WriteJSON(&want, res)
	if code != 200 || !bytes.Equal(b, want.Bytes()) {
		t.Errorf("api/query: %d\n%s\nwant\n%s", code, b, want.Bytes())
	}
}

// TestRequestErrors: every bad request is a 4xx naming what is wrong.
func TestRequestErrors(t *testing.T) {
	f := newFixture(t, &server.Options{MaxBody: 4096, MaxResults: 50})
	vec := rowVector(t, f.dir, 3)
	for _, tc := range []struct {
		path, body string
		code       int
		want       string
	}{
		{"/knn-service", `{"text": "x"`, 400, "not the JSON expected"},
		{"/knn-service", `{"text": 3, "num_images": 3}`, 400, "not the JSON expected"},
		{"/knn-service", `{"num_images": "3", "text": "x"}`, 400, "not the JSON expected"},
		{"/knn-service", `{"num_images": 3}`, 400, "fill exactly one"},
		{"/knn-service", `{"text": "x", "embedding_input": [1], "num_images": 3}`, 400, "fill exactly one"},
		{"/knn-service", `{"text": "x"}`, 400, "num_images is required"},
		{"/knn-service", `{"text": "x", "num_images": 51}`, 400, "--max-results"},
		{"/knn-service", `{"text": "x", "num_images": 0, "num_result_ids": 0}`, 400, "want 1 to 50"},
		{"/knn-service", `{"text": "x", "num_images": 3, "modality": "video"}`, 400, "modality"},
		{"/knn-service", `{"text": "x", "num_images": 3, "use_mclip": true}`, 400, "use_mclip"},
		{"/knn-service", `{"image_url": "https://example.com/a.jpg", "num_images": 3}`, 400, "does not download"},
		{"/knn-service", `{"image_url": "/etc/passwd", "num_images": 3}`, 400, "--allow-files"},
		{"/knn-service", `{"text": "x", "num_images": 3, "indice_name": "laion5B"}`, 400, `unknown indice_name "laion5B" (this server has: demo)`},
		{"/knn-service", `{"text": "x", "num_images": 3}`, 400, "no CLIP model"},
		{"/knn-service", `{"embedding_input": [1, 2], "num_images": 3}`, 400, "dimension"},
		{"/knn-service", `{"embedding_input": ` + vec + `, "num_images": 3, "where": "nsfw =="}`, 400, "where:"},
		{"/knn-service", `{"embedding_input": ` + vec + `, "num_images": 3, "threshold": 2}`, 400, "threshold"},
		{"/knn-service", `{"image": "not base64!", "num_images": 3}`, 400, "not base64"},
		{"/knn-service", `{"text": "` + strings.Repeat("x", 5000) + `", "num_images": 3}`, 413, "--max-body"},
		{"/metadata", `{"ids": [0, 600]}`, 400, "id 600"},
		{"/metadata", `{"ids": [-1]}`, 400, "id -1"},
		{"/api/query", `{"query": ""}`, 400, "empty"},
		{"/api/query", `{"query": "all wher"}`, 400, "syntax error"},
		{"/api/query", `{"query": "knn(row(1), 51)"}`, 400, "--max-results"},
		{"/api/query", `{"query": "all", "rows": 100000}`, 400, "--max-rows"},
		{"/api/query", `{"query": "all where x = 1"}`, 400, "unknown column"},
		{"/api/query", `{"query": "all where url in file('/etc/passwd')"}`, 400, "reads \"/etc/passwd\" on the server"},
		{"/api/query", `{"query": "knn(rows(file('/etc/hostname')), 3)"}`, 400, "--allow-files"},
		{"/api/query", `{"query": "knn(vector('/tmp/q.npy'), 3)"}`, 400, "--allow-files"},
		{"/knn-service", `{"embedding_input": ` + vec + `, "num_images": 3, "where": "url in file('/etc/passwd')"}`, 400, "--allow-files"},
		{"/api/audit", `{"filter": "url in file('/etc/passwd')"}`, 400, "--allow-files"},
		{"/nothing", ``, 404, "no route"},
	} {
		method := "POST"
		if tc.path == "/nothing" {
			method = "GET"
		}
		code, b, _ := f.do(method, tc.path, tc.body)
		var e struct{ Error string }
		if code != tc.code || json.Unmarshal(b, &e) != nil || !strings.Contains(e.Error, tc.want) {
			t.Errorf("%s %.60s: %d %s, want %d with %q", tc.path, tc.body, code, b, tc.code, tc.want)
		}
	}
	// Metrics count them by route and code.
	_, b, _ := f.do("GET", "/metrics", "")
	for _, want := range []string{`laiondb_http_requests_total{route="knn-service",code="400"} 19`, `laiondb_http_requests_total{route="knn-service",code="413"} 1`,
		`laiondb_http_request_duration_seconds_count{route="api-query"} 8`, `laiondb_http_request_duration_seconds_bucket{route="metadata",le="+Inf"} 2`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("metrics lack %s:\n%s", want, b)
		}
	}
}

// TestToken: with a token, every route but /healthz and the page wants it.
func TestToken(t *testing.T) {
	f := newFixture(t, &server.Options{Token: "s3cret"})
	for _, tok := range []string{"", "wrong", "s3cret"} {
		f.token = tok
		for _, p := range []string{"/indices-list", "/metrics"} {
			code, b, resp := f.do("GET", p, "")
			if (code == 200) != (tok == "s3cret") || code == 401 && resp.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s with token %q: %d %s", p, tok, code, b)
			}
		}
		if code, _, _ := f.do("GET", "/healthz", ""); code != 200 {
			t.Errorf("healthz with token %q: %d", tok, code)
		}
		if code, b, _ := f.do("GET", "/", ""); code != 200 || !bytes.Contains(b, []byte("laiondb audit")) {
			t.Errorf("page with token %q: %d", tok, code)
		}
	}
}

// TestTimeoutAndDisconnect: a query past the timeout is a 504, and a
// client that goes away cancels its query.
func TestTimeoutAndDisconnect(t *testing.T) {
	f := newFixture(t, &server.Options{Timeout: time.Nanosecond})
	code, b, _ := f.do("POST", "/api/query", `{"query": "all where text matches 'a.*b.*c'"}`)
	if code != 504 || !strings.Contains(string(b), "--timeout") {
		t.Errorf("timeout: %d %s", code, b)
	}
	g := newFixture(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", g.hs.URL+"/api/query", strings.NewReader(`{"query": "all"}`))
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Error("a cancelled request succeeded")
	}
}

// TestStoreRefresh: an ingest by another writer shows in the next request
// once the store is checked again, with no restart.
func TestStoreRefresh(t *testing.T) {
	now := time.Unix(1000, 0)
	f := newFixture(t, &server.Options{Refresh: time.Second, Now: func() time.Time { return now }})
	total := func() int {
		_, b, _ := f.do("POST", "/api/query", `{"query": "all"}`)
		var r struct {
			TotalRows int `json:"total_rows"`
		}
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatalf("%v: %s", err, b)
		}
		return r.TotalRows
	}
	if n := total(); n != 600 {
		t.Fatalf("%d rows before", n)
	}
	more := newStore(t, f.dir, 1, 100, 9)
	more[0].Name = "more"
	ingest(t, f.dir, more)
	if n := total(); n != 600 {
		t.Errorf("%d rows before the next check", n)
	}
	now = now.Add(2 * time.Second)
	if n := total(); n != 700 {
		t.Errorf("%d rows after the ingest, want 700", n)
	}
}

// FuzzRequests sends arbitrary bodies to every POST route: the server
// answers each with a status below 500 (a bad body is the client's
// mistake), and never panics.
func FuzzRequests(f *testing.F) {
	dir := filepath.Join(f.TempDir(), "store")
	ingest(f, dir, newStore(f, dir, 1, 200, 3))
	srv, err := server.New(&server.Options{Indexes: []server.Index{{Name: "demo", Dir: dir}}, MaxResults: 100})
	if err != nil {
		f.Fatal(err)
	}
	defer srv.Close()
	for _, seed := range []string{
		clipBody(`text="a cat"`, 5, ""), clipBody("embedding_input=[1, 2, 3]", 5, `, "where": "nsfw = 'x'"`),
		`{"ids": [1, 2, 3]}`, `{"query": "knn(row(1), 5) where nsfw = 'UNLIKELY' by nsfw"}`, `{"query": "all", "rows": 2}`,
		`{"image": "aGVsbG8=", "num_images": 1}`, `{"embedding_input": [], "num_images": 1}`, `[]`, `null`, `{"ids": null}`,
	} {
		for _, route := range []string{"knn-service", "metadata", "api/query"} {
			f.Add(route, []byte(seed))
		}
	}
	f.Fuzz(func(t *testing.T, route string, body []byte) {
		switch route {
		case "knn-service", "metadata", "api/query":
		default:
			return
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest("POST", "/"+route, bytes.NewReader(body)))
		if rec.Code >= 500 {
			t.Fatalf("POST /%s %q: %d %s", route, body, rec.Code, rec.Body)
		}
	})
}

// reusedNote is what a search's method adds when its allow-list came from
// the store's cache.
const reusedNote = " (where: the allow-list of an earlier search on this store content, reused)"

// TestConcurrentRequests mixes every kind of request from 16 clients at
// once (run under -race by make test): each answer equals the one given
// alone.
func TestConcurrentRequests(t *testing.T) {
	f := newFixture(t, nil)
	vec := rowVector(t, f.dir, 9)
	reqs := []struct{ path, body string }{
		{"/knn-service", clipBody("embedding_input="+vec, 10, `, "where": "nsfw = 'UNLIKELY'"`)},
		{"/knn-service", clipBody("embedding_input="+vec, 10, `, "threshold": 0.3`)},
		{"/metadata", `{"ids": [1, 2, 3, 500]}`},
		{"/api/query", `{"query": "all where text contains 'e' by nsfw"}`},
		{"/api/query", `{"query": "knn(row(4), 20) where nsfw != 'NSFW'", "rows": 5}`},
	}
	want := make([]string, len(reqs))
	for i, r := range reqs {
		code, b, _ := f.do("POST", r.path, r.body)
		if code != 200 {
			t.Fatalf("%s: %d %s", r.path, code, b)
		}
		want[i] = string(b)
	}
	errs := make(chan error, 16)
	for c := range 16 {
		go func() {
			for j := range 10 {
				i := (c + j) % len(reqs)
				req, _ := http.NewRequest("POST", f.hs.URL+reqs[i].path, strings.NewReader(reqs[i].body))
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					errs <- err
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				// The method may say the where's allow-list was reused.
				if strings.ReplaceAll(string(b), reusedNote, "") != strings.ReplaceAll(want[i], reusedNote, "") {
					errs <- fmt.Errorf("%s %s: answered differently under load:\n%s\nwant\n%s", reqs[i].path, reqs[i].body, b, want[i])
					return
				}
			}
			errs <- nil
		}()
	}
	for range 16 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// TestAPIAudit runs the term-list audit through the server with the tiny
// test model and checks each view against the same query run directly;
// without a model it is a 400 that says so.
func TestAPIAudit(t *testing.T) {
	vocab, _ := filepath.Abs("../../shared/clip/bpe_simple_vocab_16e6.txt.gz")
	lib, _ := filepath.Abs("../third_party/onnxruntime/libonnxruntime.so.1")
	for _, p := range []string{vocab, lib} {
		if _, err := os.Stat(p); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("under CI: %v", err)
			}
			t.Skipf("%v (make test installs ONNX Runtime; the vocabulary lives in ../shared)", err)
		}
	}
	model, _ := filepath.Abs("../encode/testdata/models/hf")
	open := func(dir string) (*laiondb.Store, error) {
		return laiondb.Open(dir, &laiondb.Options{ReadOnly: true, Model: model, Vocab: vocab, ORTLib: lib})
	}
	f := newFixture(t, &server.Options{Open: open})
	code, b, _ := f.do("POST", "/api/audit", `{"terms": ["desi", " ", "beautiful"], "k": 30}`)
	var rep struct {
		K     int
		Terms []struct {
			Term  string
			Views []struct {
				Kind, Query string
				Selected    int
			}
		}
	}
	if code != 200 || json.Unmarshal(b, &rep) != nil || rep.K != 30 || len(rep.Terms) != 2 || rep.Terms[1].Term != "beautiful" {
		t.Fatalf("%d: %.500s", code, b)
	}
	st, err := open(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, term := range rep.Terms {
		if len(term.Views) != 4 {
			t.Errorf("%s: %d views", term.Term, len(term.Views))
		}
		for _, v := range term.Views {
			res, err := st.Query(context.Background(), v.Query, nil)
			if err != nil || res.Selected != v.Selected {
				t.Errorf("%s %s: %d selected, the query alone %v (%v)", term.Term, v.Kind, v.Selected, res, err)
			}
		}
	}
	g := newFixture(t, nil)
	for body, want := range map[string]string{
		`{"terms": ["desi"]}`:             "no CLIP model",
		`{"terms": ["desi"], "k": 20000}`: "--max-results",
		`{"terms": "desi"}`:               "not the JSON expected",
	} {
		code, b, _ := g.do("POST", "/api/audit", body)
		if code != 400 || !strings.Contains(string(b), want) {
			t.Errorf("%s: %d %s, want 400 with %q", body, code, b, want)
		}
	}
}

// TestAPIExport: /api/export sends the file export.Write writes for the
// query, and refuses what it cannot do.
func TestAPIExport(t *testing.T) {
	f := newFixture(t, &server.Options{MaxExport: 100})
	q := "all where nsfw = 'UNLIKELY' limit 50"
	code, b, resp := f.do("POST", "/api/export", `{"query": "`+q+`", "format": "csv"}`)
	if code != 200 || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" || resp.Header.Get("X-Laiondb-Rows") != "50" {
		t.Fatalf("%d %v: %.300s", code, resp.Header, b)
	}
	st, err := laiondb.Open(f.dir, &laiondb.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	res, err := st.Query(context.Background(), q, nil)
	if err != nil {
		t.Fatal(err)
	}
	snap, _ := st.Snapshot()
	var want bytes.Buffer
	if _, err := export.Write(context.Background(), snap, res, &want, &export.Options{Format: export.CSV}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, want.Bytes()) {
		t.Errorf("export differs from export.Write's:\n%.300s\nwant\n%.300s", b, want.Bytes())
	}
	for body, want := range map[string]string{
		`{"query": "all"}`:                                  "exports at most 100",
		`{"query": "all limit 5", "format": "xlsx"}`:        "unknown format",
		`{"query": "all limit 5", "shape": "bogus"}`:        "unknown shape",
		`{"query": "all limit 5", "columns": ["nope"]}`:     `no column \"nope\"`,
		`{"query": "all where url in file('/etc/passwd')"}`: "--allow-files",
	} {
		code, b, _ := f.do("POST", "/api/export", body)
		if code != 400 || !strings.Contains(string(b), want) {
			t.Errorf("%s: %d %s, want 400 with %q", body, code, b, want)
		}
	}
}

// TestShardsServedAsOne serves a dataset's two shards as one index beside
// the store of all its files: clip-retrieval's /knn-service and
// /metadata answer byte for byte alike, /api/query alike apart from the
// plan, fingerprint and search method; a shard that does not open fails
// the server's start, naming it.
func TestShardsServedAsOne(t *testing.T) {
	tmp := t.TempDir()
	srcs := newStore(t, "", 4, 150, 21)
	whole, s1, s2 := filepath.Join(tmp, "whole"), filepath.Join(tmp, "s1"), filepath.Join(tmp, "s2")
	ingest(t, whole, srcs)
	ingest(t, s1, srcs[:2])
	ingest(t, s2, srcs[2:])
	srv, err := server.New(&server.Options{Indexes: []server.Index{{Name: "whole", Dir: whole}, {Name: "sharded", Shards: []string{s1, s2}}}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer func() { hs.Close(); srv.Close() }()
	f := &fixture{t: t, srv: srv, hs: hs}
	vec := rowVector(t, whole, 420)
	for _, body := range []string{
		clipBody("embedding_input="+vec, 20, ""),
		clipBody("embedding_input="+vec, 10, `, "deduplicate": false`),
		`{"ids": [5, 0, 599, 300, 301], "indice_name": "demo"}`,
	} {
		path := "/knn-service"
		if strings.Contains(body, `"ids"`) {
			path = "/metadata"
		}
		code, one, _ := f.do("POST", path, strings.Replace(body, `"indice_name": "demo"`, `"indice_name": "whole"`, 1))
		code2, two, _ := f.do("POST", path, strings.Replace(body, `"indice_name": "demo"`, `"indice_name": "sharded"`, 1))
		if code != 200 || code2 != 200 || !bytes.Equal(one, two) {
			t.Errorf("%s: the store answers %d\n%s\nits shards %d\n%s", path, code, one, code2, two)
		}
	}
	strip := func(b []byte) map[string]any {
		var v map[string]any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("%v: %s", err, b)
		}
		delete(v, "plan")
		delete(v, "fingerprint")
		if s, ok := v["search"].(map[string]any); ok {
			delete(s, "method")
		}
		return v
	}
	for _, q := range []string{"all where text contains 'a' by nsfw sweep similarity", "knn(" + vec + ", 25) where nsfw = 'UNLIKELY' by file", "within(row(450), 0.6)"} {
		body, _ := json.Marshal(map[string]any{"query": q, "rows": 5, "index": "whole"})
		code, one, _ := f.do("POST", "/api/query", string(body))
		body, _ = json.Marshal(map[string]any{"query": q, "rows": 5, "index": "sharded"})
		code2, two, _ := f.do("POST", "/api/query", string(body))
		if code != 200 || code2 != 200 || !reflect.DeepEqual(strip(one), strip(two)) {
			t.Errorf("%s: the store answers %d\n%s\nits shards %d\n%s", q, code, one, code2, two)
		}
	}
	_, err = server.New(&server.Options{Indexes: []server.Index{{Name: "sharded", Shards: []string{s1, filepath.Join(tmp, "lost")}}}})
	if err == nil || !strings.Contains(err.Error(), "shard 2 of 2") {
		t.Errorf("a shard that does not open: %v", err)
	}
}
