package server

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/laiondb/laiondb"
	"github.com/laiondb/laiondb/db"
	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/internal/lane"
	"github.com/laiondb/laiondb/output"
	"github.com/laiondb/laiondb/query"
)

// Index is a store served under a name (clip-retrieval's indice_name).
type Index struct {
	Name string
	Dir  string
	// Shards, when not empty, are the stores of one dataset's shards (each
	// a consecutive group of its files), in file order, served under Name
	// as one store instead of Dir: every endpoint answers as one store of
	// all their rows would (laiondb.Union); a shard that fails fails the
	// request, which never answers from the other shards alone.
	Shards []string
}

// Store is what the server needs of a store it serves: a *laiondb.Store,
// or the *laiondb.Union of a dataset's shards.
type Store interface {
	Query(ctx context.Context, q string, opts *engine.Options) (*engine.Result, error)
	Columns() []string
	Snapshot() (engine.Store, error)
	Changed() (bool, error)
	Close() error
}

// Options configure New. Zero fields take the defaults documented on each.
type Options struct {
	// Indexes are the stores served; the first is the default index.
	Indexes []Index
	// Open opens a store read-only (with the CLIP model the server
	// encodes text and images with). It is called again when a store
	// changes on disk.
	Open func(dir string) (*laiondb.Store, error)
	// Token, when set, is the bearer token every request but /healthz
	// must carry (Authorization: Bearer TOKEN).
	Token string
	// MaxBody is the largest request body in bytes (default 16 MiB: a
	// base64 image fits).
	MaxBody int64
	// MaxResults caps num_images, num_result_ids and K (default 10,000).
	MaxResults int
	// MaxRows caps the rows a query returns (default 10,000).
	MaxRows int
	// MaxExport caps the rows /api/export writes (default 1,000,000);
	// 'laiondb export' has no such limit.
	MaxExport int
	// Timeout bounds each query (default 1 minute); a query is also
	// cancelled when its client goes away.
	Timeout time.Duration
	// AllowFiles lets requests name files on the server's disk: image_url
	// as file:///path or /path, and queries with in file(...), seed files,
	// image(...) or vector(...). Without it those are refused. The server
	// never fetches from the network.
	AllowFiles bool
	// Columns are the metadata columns /knn-service and /metadata return,
	// by store name (default: url, text as "caption", nsfw as "NSFW").
	Columns []string
	// Refresh is how often a store is checked for commits by other
	// processes (default 1s).
	Refresh time.Duration
	// ScanSlots is how many requests that read every row of a store (a
	// query over all, an audit, an export) run at once (default 1); more
	// wait their turn, within their timeout. Searches and lookups never
	// wait for a slot, and running scans give way to them between pieces
	// of work (for at most lane.MaxPause at a time), so they are not held
	// behind the scans.
	ScanSlots int
	// Now is the clock (default time.Now), for tests.
	Now func() time.Time
}

// Server serves the stores of Options.Indexes over HTTP. It is an
// http.Handler; Close releases the stores.
type Server struct {
	opts    Options
	indexes map[string]*index
	order   []string
	mux     *http.ServeMux
	metrics *metrics
	scans   chan struct{} // a token a scan running (Options.ScanSlots)
	gate    lane.Gate     // the short requests running
}

// New returns a server for o.Indexes. It opens every store once, so that
// a missing or damaged store is an error at start.
func New(o *Options) (*Server, error) {
	if o == nil || len(o.Indexes) == 0 {
		return nil, errors.New("server: no store to serve")
	}
	s := &Server{opts: *o, indexes: map[string]*index{}}
	op := &s.opts
	if op.Open == nil {
		op.Open = func(dir string) (*laiondb.Store, error) { return laiondb.Open(dir, &laiondb.Options{ReadOnly: true}) }
	}
	if op.MaxBody <= 0 {
		op.MaxBody = 16 << 20
	}
	if op.MaxResults <= 0 {
		op.MaxResults = 10000
	}
	if op.MaxRows <= 0 {
		op.MaxRows = 10000
	}
	if op.MaxExport <= 0 {
		op.MaxExport = 1000000
	}
	if op.Timeout <= 0 {
		op.Timeout = time.Minute
	}
	if op.Refresh <= 0 {
		op.Refresh = time.Second
	}
	if op.Now == nil {
		op.Now = time.Now
	}
	if op.ScanSlots <= 0 {
		op.ScanSlots = 1
	}
	s.scans = make(chan struct{}, op.ScanSlots)
	if len(op.Columns) == 0 {
		op.Columns = []string{"url", "text", "nsfw"}
	}
	for _, ix := range op.Indexes {
		if ix.Name == "" || strings.ContainsAny(ix.Name, "/ \t\n") {
			s.Close()
			return nil, fmt.Errorf("server: index name %q: want a name without spaces or slashes", ix.Name)
		}
		if s.indexes[ix.Name] != nil {
			s.Close()
			return nil, fmt.Errorf("server: index %q named twice", ix.Name)
		}
		x := &index{name: ix.Name, dir: ix.Dir, shards: ix.Shards, open: op.Open, every: op.Refresh, now: op.Now, checked: op.Now()}
		st, err := x.openStore()
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("server: index %s: %w", ix.Name, err)
		}
		x.cur = &handle{st: st}
		s.indexes[ix.Name] = x
		s.order = append(s.order, ix.Name)
	}
	s.metrics = newMetrics()
	s.mux = http.NewServeMux()
	s.route("GET /healthz", "healthz", false, s.healthz)
	s.route("GET /metrics", "metrics", true, s.metrics.serve)
	s.route("GET /indices-list", "indices-list", true, s.indicesList)
	s.route("POST /knn-service", "knn-service", true, s.knnService)
	s.route("POST /metadata", "metadata", true, s.metadata)
	s.route("POST /api/query", "api-query", true, s.apiQuery)
	s.route("POST /api/audit", "api-audit", true, s.apiAudit)
	s.route("POST /api/export", "api-export", true, s.apiExport)
	s.route("GET /{$}", "page", false, s.page)
	s.route("/", "not-found", false, func(w http.ResponseWriter, r *http.Request) {
		httpError(w, http.StatusNotFound, fmt.Sprintf("no route %s %s (routes: /knn-service, /metadata, /indices-list, /api/query, /api/audit, /api/export, /metrics, /healthz, /)", r.Method, r.URL.Path))
	})
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Close closes the stores once the requests using them are done.
func (s *Server) Close() error {
	for _, ix := range s.indexes {
		ix.mu.Lock()
		if h := ix.cur; h != nil {
			ix.cur = nil
			h.retire()
		}
		ix.mu.Unlock()
	}
	return nil
}

// route registers h under pattern, with metrics, the token check when
// auth is set, and the body limit.
func (s *Server) route(pattern, name string, auth bool, h http.HandlerFunc) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		defer func() { s.metrics.observe(name, rec.code, time.Since(start)) }()
		if auth && s.opts.Token != "" && !s.authorized(r) {
			rec.Header().Set("WWW-Authenticate", `Bearer realm="laiondb"`)
			httpError(rec, http.StatusUnauthorized, "missing or wrong bearer token (Authorization: Bearer TOKEN)")
			return
		}
		r.Body = http.MaxBytesReader(rec, r.Body, s.opts.MaxBody)
		h(rec, r)
	})
}

func (s *Server) authorized(r *http.Request) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(got), []byte(s.opts.Token)) == 1
}

// statusRecorder remembers the status code written, for the metrics.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "ok\n")
}

func (s *Server) indicesList(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.order)
}

// index returns the index named name ("" or absent: the first), or
// writes a 400 naming the indexes.
func (s *Server) index(w http.ResponseWriter, name string) (*handle, bool) {
	if name == "" {
		name = s.order[0]
	}
	ix := s.indexes[name]
	if ix == nil {
		httpError(w, http.StatusBadRequest, fmt.Sprintf("unknown indice_name %q (this server has: %s)", name, strings.Join(s.order, ", ")))
		return nil, false
	}
	h, err := ix.acquire()
	if err != nil {
		httpError(w, http.StatusServiceUnavailable, fmt.Sprintf("index %s: %v", name, err))
		return nil, false
	}
	return h, true
}

// begin starts a request's use of an index: the index named name (or
// writes a 400), and a context bounded by the server's timeout and the
// client's connection. end releases both.
func (s *Server) begin(w http.ResponseWriter, r *http.Request, name string) (h *handle, ctx context.Context, end func(), ok bool) {
	if h, ok = s.index(w, name); !ok {
		return nil, nil, nil, false
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.Timeout)
	return h, ctx, func() { cancel(); h.release() }, true
}

// admit starts a request's turn. A scan (a request that reads every
// row) waits for one of the scan slots (Options.ScanSlots), giving up
// with ctx's error when the request's time runs out or its client goes
// away, and then runs in the background lane: between pieces of work it
// gives way to short requests (lane.Yield). Any other request is short:
// it starts at once, and background scans give way to it while it runs.
// done ends the turn.
func (s *Server) admit(ctx context.Context, scan bool) (_ context.Context, done func(), err error) {
	if !scan {
		return ctx, s.gate.Enter(), nil
	}
	select {
	case s.scans <- struct{}{}:
		return lane.Background(ctx, &s.gate), func() { <-s.scans }, nil
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
}

// scans reports whether a query reads every row of the store: a query
// over all (with or without a sample) rather than a search.
func scans(q *query.Query) bool {
	_, all := q.Source.(*query.AllSource)
	return all
}

// queryError writes err as the status it deserves: 400 for what the
// request asked wrongly, 504 for a timeout, 499 for a client gone.
func (s *Server) queryError(w http.ResponseWriter, r *http.Request, err error) {
	var qe *query.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		httpError(w, http.StatusGatewayTimeout, fmt.Sprintf("the query ran longer than the server's limit of %s (laiondb serve --timeout)", s.opts.Timeout))
	case r.Context().Err() != nil:
		httpError(w, 499, "client closed the request")
	case errors.As(err, &qe), errors.Is(err, db.ErrNotFound), errors.Is(err, db.ErrNoVectors), errors.Is(err, db.ErrDimension),
		errors.Is(err, engine.ErrUnknownLexicon), errors.Is(err, db.ErrNoModel):
		httpError(w, http.StatusBadRequest, err.Error())
	default:
		httpError(w, http.StatusInternalServerError, err.Error())
	}
}

// apiRequest is the body of POST /api/query.
type apiRequest struct {
	Query string `json:"query"`
	// Index names the store (default: the first).
	Index string `json:"index"`
	// Rows asks for the first N selected rows (at most Options.MaxRows).
	Rows    int      `json:"rows"`
	Columns []string `json:"columns"`
	Exact   bool     `json:"exact"`
}

// apiQuery answers a query in laiondb's language with the JSON document
// 'laiondb query --format json' prints.
func (s *Server) apiQuery(w http.ResponseWriter, r *http.Request) {
	var req apiRequest
	if !decode(w, r, &req) {
		return
	}
	if strings.TrimSpace(req.Query) == "" {
		httpError(w, http.StatusBadRequest, `"query" is empty: send {"query": "all where text contains 'desi'"}`)
		return
	}
	if req.Rows < 0 || req.Rows > s.opts.MaxRows {
		httpError(w, http.StatusBadRequest, fmt.Sprintf(`"rows" %d: want 0 to %d (laiondb serve --max-rows)`, req.Rows, s.opts.MaxRows))
		return
	}
	if len(req.Columns) > 0 && req.Rows == 0 {
		httpError(w, http.StatusBadRequest, `"columns" says what "rows" returns: give "rows" too`)
		return
	}
	h, ctx, end, ok := s.begin(w, r, req.Index)
	if !ok {
		return
	}
	defer end()
	parsed, err := s.checkQuery(req.Query)
	if err != nil {
		httpError(w, http.StatusBadRequest, err.Error())
		return
	}
	ctx, done, err := s.admit(ctx, parsed != nil && scans(parsed))
	if err != nil {
		s.queryError(w, r, err)
		return
	}
	defer done()
	res, err := h.st.Query(ctx, req.Query, &engine.Options{Rows: req.Rows, Columns: req.Columns, Exact: req.Exact})
	if err != nil {
		s.queryError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	output.WriteJSON(w, res)
}

// checkQuery refuses a knn whose K exceeds MaxResults and, without
// AllowFiles, a query that reads files on the server. It returns the
// parsed query, or nil when it does not parse (the error is left for the
// query to report).
func (s *Server) checkQuery(q string) (*query.Query, error) {
	parsed, err := query.Parse(q)
	if err != nil {
		return nil, nil
	}
	if k, ok := parsed.Source.(*query.KNNSource); ok && k.K > int64(s.opts.MaxResults) {
		return nil, fmt.Errorf("knn asks for %d rows; this server answers at most %d (laiondb serve --max-results)", k.K, s.opts.MaxResults)
	}
	return parsed, s.checkFiles(parsed)
}

// checkFiles refuses, without AllowFiles, a query that reads files on the
// server's disk: list files, seed files, image and vector files.
func (s *Server) checkFiles(q *query.Query) error {
	if fs := q.Files(); len(fs) > 0 && !s.opts.AllowFiles {
		return fmt.Errorf("the query reads %q on the server; this server reads no file a request names (laiondb serve --allow-files)", fs[0])
	}
	return nil
}

// decode reads a JSON body into v, or writes a 400 (413 when too large).
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(r.Body)
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			httpError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body over %d bytes (laiondb serve --max-body)", tooBig.Limit))
			return false
		}
		httpError(w, http.StatusBadRequest, "request body is not the JSON expected: "+err.Error())
		return false
	}
	return true
}

// httpError writes {"error": msg} with code.
func httpError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

// index is a served store. When the store changes on disk (another
// process committed), the next request opens it again; requests already
// running finish on the old one, which is closed after them.
type index struct {
	name, dir string
	shards    []string
	open      func(string) (*laiondb.Store, error)
	every     time.Duration
	now       func() time.Time

	mu      sync.Mutex
	cur     *handle
	checked time.Time
}

// handle is one open copy of a store with the requests using it.
type handle struct {
	st      Store
	refs    atomic.Int64
	retired atomic.Bool
	once    sync.Once
}

// openStore opens the index's store, or the union of its shards.
func (ix *index) openStore() (Store, error) {
	if len(ix.shards) == 0 {
		st, err := ix.open(ix.dir)
		if err != nil {
			return nil, err // not a nil *laiondb.Store in an interface
		}
		return st, nil
	}
	var stores []*laiondb.Store
	fail := func(err error) (Store, error) {
		for _, st := range stores {
			st.Close()
		}
		return nil, err
	}
	for i, dir := range ix.shards {
		st, err := ix.open(dir)
		if err != nil {
			return fail(fmt.Errorf("shard %d of %d (%s): %w", i+1, len(ix.shards), dir, err))
		}
		stores = append(stores, st)
	}
	u, err := laiondb.NewUnion(stores...)
	if err != nil {
		return fail(err)
	}
	return u, nil
}

// acquire returns the current store, opened again first if it changed.
func (ix *index) acquire() (*handle, error) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.cur == nil {
		return nil, errors.New("the server is closing")
	}
	if now := ix.now(); now.Sub(ix.checked) >= ix.every {
		ix.checked = now
		if changed, err := ix.cur.st.Changed(); err == nil && changed {
			st, err := ix.openStore()
			if err != nil {
				return nil, fmt.Errorf("the store changed on disk and did not open again: %w", err)
			}
			old := ix.cur
			ix.cur = &handle{st: st}
			old.retire()
		}
	}
	ix.cur.refs.Add(1)
	return ix.cur, nil
}

// release ends a request's use of h.
func (h *handle) release() {
	if h.refs.Add(-1) == 0 && h.retired.Load() {
		h.close()
	}
}

// retire closes h once no request uses it.
func (h *handle) retire() {
	h.retired.Store(true)
	if h.refs.Load() == 0 {
		h.close()
	}
}

func (h *handle) close() { h.once.Do(func() { h.st.Close() }) }
