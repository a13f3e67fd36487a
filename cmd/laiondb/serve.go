package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/laiondb/laiondb"
	"github.com/laiondb/laiondb/db"
	"github.com/laiondb/laiondb/server"
)

// TokenEnv names the environment variable that may hold the server's
// bearer token instead of --token FILE.
const TokenEnv = "LAIONDB_TOKEN"

var serveFlags struct {
	stores     []string
	listen     string
	token      string
	model      modelFlags
	allowFiles bool
	maxResults int
	maxRows    int
	maxExport  int
	maxBody    int64
	timeout    time.Duration
	columns    []string
	verbose    bool
	exactMax   int
	indexMem   float64
	scanSlots  int
}

func init() {
	register(&command{
		name:    "serve",
		summary: "serve stores read-only over HTTP: clip-retrieval's API and an audit page",
		usage: "--store [NAME=]DIR... [--listen 127.0.0.1:1234] [--token FILE] [--model DIR]\n\n" +
			"Serves each store under an index name (the folder's name without NAME=): clip-retrieval's\n" +
			"POST /knn-service, POST /metadata and GET /indices-list, laiondb's POST /api/query (the JSON\n" +
			"of 'laiondb query --format json'), /metrics, /healthz, and the audit page at /. It listens\n" +
			"on loopback unless told otherwise, and then only with a bearer token (--token FILE or $" + TokenEnv + ").\n" +
			"No endpoint writes to a store; an ingest by another process shows once it commits.\n" +
			"NAME=DIR given again with the same NAME serves the shards of one dataset (each a consecutive\n" +
			"group of its files, in file order) as one store: every endpoint answers as one store of all\n" +
			"their rows; a shard that fails fails the request.\n" +
			"An HNSW index's links and codes are copied into 2 MiB pages where the kernel offers them:\n" +
			"searches run faster, and opening takes longer (up to about 2 s for a 1M index).",
		flags: func(fs *pflag.FlagSet) {
			f := &serveFlags
			fs.StringArrayVar(&f.stores, "store", nil, "a store to serve, as DIR or NAME=DIR; repeatable, and NAME=DIR with a NAME given before adds a shard to that index (default $LAIONDB_STORE)")
			fs.StringVar(&f.listen, "listen", "127.0.0.1:1234", "address to listen on; other than loopback only with --token")
			fs.StringVar(&f.token, "token", "", "file holding the bearer token requests must carry (default $"+TokenEnv+")")
			f.model.add(fs)
			fs.BoolVar(&f.allowFiles, "allow-files", false, "let requests name files on this machine: image_url, and queries with file(...), image(...), vector(...) (the server never downloads)")
			fs.IntVar(&f.maxResults, "max-results", 10000, "largest num_images, num_result_ids, K and ids list")
			fs.IntVar(&f.maxRows, "max-rows", 10000, "largest number of rows /api/query returns")
			fs.IntVar(&f.maxExport, "max-export", 1000000, "largest number of rows /api/export writes")
			fs.Int64Var(&f.maxBody, "max-body", 16<<20, "largest request body in bytes")
			fs.DurationVar(&f.timeout, "timeout", time.Minute, "longest a query may run; it is also cancelled when the client goes away")
			fs.StringSliceVar(&f.columns, "columns", []string{"url", "text", "nsfw"}, "metadata columns /knn-service and /metadata return (text as caption, nsfw as NSFW)")
			fs.BoolVar(&f.verbose, "verbose", false, "log each request to stderr")
			fs.IntVar(&f.exactMax, "exact-up-to", 0, "as for query: knn searches over at most this many candidate vectors scan exactly (default 1048576; -1: the planner picks the faster of the index and a scan)")
			addIndexMemory(fs, &f.indexMem)
			fs.IntVar(&f.scanSlots, "scan-slots", 1, "requests that read every row (queries over all, audits, exports) run this many at once; searches and lookups never wait for them")
		},
		run: runServe,
	})
}

func runServe(e *env, fs *pflag.FlagSet) error {
	f := &serveFlags
	if fs.NArg() != 0 {
		return usageErrorf("serve takes no arguments, got %q (stores go in --store)", fs.Args())
	}
	stores := f.stores
	if len(stores) == 0 {
		if v := os.Getenv("LAIONDB_STORE"); v != "" {
			stores = []string{v}
		} else {
			return usageErrorf("give a store to serve: --store DIR or --store NAME=DIR")
		}
	}
	var idx []server.Index
	named := map[string]int{} // the index of an explicit NAME=
	for _, s := range stores {
		name, dir, ok := strings.Cut(s, "=")
		if !ok {
			name, dir = filepath.Base(filepath.Clean(s)), s
		}
		if dir == "" {
			return usageErrorf("--store %q: %v", s, errEmptyStore)
		}
		if i, again := named[name]; ok && again {
			// Another shard of the index named before.
			if len(idx[i].Shards) == 0 {
				idx[i].Shards, idx[i].Dir = []string{idx[i].Dir}, ""
			}
			idx[i].Shards = append(idx[i].Shards, dir)
			continue
		}
		if ok {
			named[name] = len(idx)
		}
		idx = append(idx, server.Index{Name: name, Dir: dir})
	}
	token, err := serveToken(f.token)
	if err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(f.listen)
	if err != nil {
		return usageErrorf("--listen %q: %v", f.listen, err)
	}
	if ip := net.ParseIP(host); token == "" && !(host == "localhost" || ip != nil && ip.IsLoopback()) {
		return usageErrorf("--listen %s is reachable from other machines: give a bearer token (--token FILE or $%s)", f.listen, TokenEnv)
	}
	open := func(dir string) (*laiondb.Store, error) {
		return laiondb.Open(dir, &laiondb.Options{ReadOnly: true, Model: f.model.dir, Vocab: f.model.vocab, ORTLib: f.model.ortLib,
			Warn: func(msg string) { fmt.Fprintf(e.stderr, "laiondb: warning: %s\n", msg) },
			Tune: func(o *db.Options) {
				o.ExactUpTo, o.IndexMemory = f.exactMax, indexMemory(f.indexMem)
				o.HugePages = true // a server answers many searches: faster searches for a slower open
			}})
	}
	srv, err := server.New(&server.Options{Indexes: idx, Open: open, Token: token, MaxBody: f.maxBody, MaxResults: f.maxResults,
		MaxRows: f.maxRows, MaxExport: f.maxExport, Timeout: f.timeout, AllowFiles: f.allowFiles, Columns: keyColumns(f.columns),
		ScanSlots: f.scanSlots})
	if err != nil {
		return err
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return err
	}
	var h http.Handler = srv
	if f.verbose {
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			srv.ServeHTTP(w, r)
			fmt.Fprintf(e.stderr, "%s %s %s\n", r.Method, r.URL.Path, time.Since(start).Round(time.Microsecond))
		})
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	names := make([]string, len(idx))
	for i, x := range idx {
		names[i] = x.Name
	}
	fmt.Fprintf(e.stdout, "laiondb: serving %s on http://%s (audit page at /, clip-retrieval API at /knn-service)\n", strings.Join(names, ", "), ln.Addr())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(shut); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// serveToken reads the bearer token from path, else $LAIONDB_TOKEN.
func serveToken(path string) (string, error) {
	if path == "" {
		return strings.TrimSpace(os.Getenv(TokenEnv)), nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("--token: %w", err)
	}
	t := strings.TrimSpace(string(b))
	if t == "" {
		return "", usageErrorf("--token %s is empty", path)
	}
	return t, nil
}
