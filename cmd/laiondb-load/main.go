// Command laiondb-load puts a running 'laiondb serve' under load: N
// clients for a fixed time, each sending, in turn, a filtered knn, a
// within, a scan with a predicate, a metadata lookup and, with --text, a
// clip-retrieval text search, and reports per kind the requests, errors
// and latency percentiles:
//
//	laiondb serve --store demo=/tmp/d1m/store --model M --vocab V &
//	go run ./cmd/laiondb-load --url http://127.0.0.1:1234 --index demo --clients 16 --duration 30s --text
//
// The row targets are drawn at random (seeded) among rows that have an
// image embedding, found by asking the server first. --kinds sends only
// some kinds (--kinds knn,within,metadata: short requests only, no scan
// for them to wait behind). Before the clock
// starts, one request of each kind warms the server's caches (--warmup;
// its latencies are printed, not counted). BENCHMARKS.md gives a run.
package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"
)

func main() {
	var (
		url      = pflag.String("url", "http://127.0.0.1:1234", "the server")
		index    = pflag.String("index", "", "index name (default: the server's first)")
		clients  = pflag.Int("clients", 16, "concurrent clients")
		duration = pflag.Duration("duration", 30*time.Second, "how long to send requests")
		text     = pflag.Bool("text", false, "also send clip-retrieval text searches (the server needs --model)")
		token    = pflag.String("token", os.Getenv("LAIONDB_TOKEN"), "bearer token")
		seed     = pflag.Uint64("seed", 1, "seed of the rows drawn")
		slowest  = pflag.Int("slowest", 0, "also list the N slowest requests of each kind, with when they started")
		warmup   = pflag.Bool("warmup", true, "send one request of each kind, uncounted, before the clock starts")
		only     = pflag.StringSlice("kinds", nil, "send only these kinds, by key: knn, within, all, metadata, text (default: all of them; text with --text)")
	)
	pflag.Parse()
	c := &client{url: *url, token: *token, http: &http.Client{Timeout: 2 * time.Minute}}
	var first struct {
		TotalRows int `json:"total_rows"`
	}
	if err := c.post("/api/query", map[string]any{"query": "all limit 1", "index": *index}, &first); err != nil || first.TotalRows == 0 {
		fmt.Fprintf(os.Stderr, "laiondb-load: asking %s for its rows: %v\n", *url, err)
		os.Exit(1)
	}
	n := first.TotalRows
	// Rows with an image embedding, for the row targets: a store may
	// hold rows without one.
	var rows []int
	pick := rand.New(rand.NewPCG(*seed, 0))
	for try := 0; try < 2000 && len(rows) < 200; try++ {
		r := pick.IntN(n)
		if c.post("/api/query", map[string]any{"index": *index, "query": fmt.Sprintf("knn(row(%d), 1)", r)}, nil) == nil {
			rows = append(rows, r)
		}
	}
	if len(rows) == 0 {
		fmt.Fprintf(os.Stderr, "laiondb-load: no row with an image embedding among 2000 tried\n")
		os.Exit(1)
	}
	row := func(r *rand.Rand) int { return rows[r.IntN(len(rows))] }
	kinds := []kind{
		{"knn", "knn where (api)", func(r *rand.Rand) (string, any) {
			return "/api/query", map[string]any{"index": *index, "query": fmt.Sprintf("knn(row(%d), 10) where nsfw = 'UNLIKELY'", row(r))}
		}},
		{"within", "within (api)", func(r *rand.Rand) (string, any) {
			return "/api/query", map[string]any{"index": *index, "query": fmt.Sprintf("within(row(%d), 0.9)", row(r))}
		}},
		{"all", "all where (api)", func(r *rand.Rand) (string, any) {
			return "/api/query", map[string]any{"index": *index, "query": "all where text contains 'desi' by nsfw"}
		}},
		{"metadata", "metadata", func(r *rand.Rand) (string, any) {
			ids := make([]int, 20)
			for i := range ids {
				ids[i] = r.IntN(n)
			}
			return "/metadata", map[string]any{"indice_name": *index, "ids": ids}
		}},
	}
	if *text {
		words := []string{"beautiful", "desi", "wedding", "cat", "landscape", "portrait", "aunty", "saree"}
		kinds = append(kinds, kind{"text", "knn-service text", func(r *rand.Rand) (string, any) {
			return "/knn-service", map[string]any{"text": words[r.IntN(len(words))] + " " + words[r.IntN(len(words))], "modality": "image",
				"num_images": 40, "num_result_ids": 40, "indice_name": *index, "deduplicate": true, "where": "nsfw = 'UNLIKELY'"}
		}})
	}
	if len(*only) > 0 {
		var keep []kind
		for _, key := range *only {
			i := slices.IndexFunc(kinds, func(k kind) bool { return k.key == key })
			if i < 0 {
				fmt.Fprintf(os.Stderr, "laiondb-load: --kinds: no kind %q (knn, within, all, metadata, text with --text)\n", key)
				os.Exit(2)
			}
			keep = append(keep, kinds[i])
		}
		kinds = keep
	}
	if *warmup {
		r := rand.New(rand.NewPCG(*seed, 1<<32))
		fmt.Printf("warm-up, one request of each kind, not counted:")
		for _, kd := range kinds {
			path, body := kd.req(r)
			start := time.Now()
			if err := c.post(path, body, nil); err != nil {
				fmt.Fprintf(os.Stderr, "laiondb-load: warm-up %s: %v\n", kd.name, err)
				os.Exit(1)
			}
			fmt.Printf(" %s %.1f ms;", kd.name, float64(time.Since(start).Microseconds())/1000)
		}
		fmt.Println()
	}
	var mu sync.Mutex
	errs := make([]int, len(kinds))
	at := make([][]timed, len(kinds))
	var firstErr error
	begun := time.Now()
	stop := begun.Add(*duration)
	var wg sync.WaitGroup
	for w := range *clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(*seed, uint64(w)))
			for i := w; time.Now().Before(stop); i++ {
				k := i % len(kinds)
				path, body := kinds[k].req(r)
				start := time.Now()
				err := c.post(path, body, nil)
				d := time.Since(start)
				mu.Lock()
				if err != nil {
					errs[k]++
					if firstErr == nil {
						firstErr = err
					}
				} else {
					at[k] = append(at[k], timed{d, start.Sub(begun)})
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "kind\trequests\terrors\tp50 ms\tp90 ms\tp99 ms\tmax ms\t\n")
	for k, kd := range kinds {
		l := at[k]
		slices.SortFunc(l, func(a, b timed) int { return cmp.Compare(a.d, b.d) })
		q := func(p float64) string {
			if len(l) == 0 {
				return "–"
			}
			return fmt.Sprintf("%.1f", float64(l[min(len(l)-1, int(p*float64(len(l))))].d.Microseconds())/1000)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t%s\t\n", kd.name, len(l), errs[k], q(0.5), q(0.9), q(0.99), q(1))
	}
	tw.Flush()
	fmt.Printf("%d clients for %s against %s (%d rows)\n", *clients, *duration, *url, n)
	for k, kd := range kinds {
		if *slowest <= 0 {
			break
		}
		fmt.Printf("slowest %s:", kd.name)
		l := at[k] // sorted by latency above
		for i := len(l) - 1; i >= max(0, len(l)-*slowest); i-- {
			fmt.Printf(" %.1f ms at %.1f s;", float64(l[i].d.Microseconds())/1000, l[i].at.Seconds())
		}
		fmt.Println()
	}
	if firstErr != nil {
		fmt.Fprintf(os.Stderr, "laiondb-load: first error: %v\n", firstErr)
		os.Exit(1)
	}
}

// timed is a request's latency and when it started, from the run's start.
type timed struct{ d, at time.Duration }

// kind is one kind of request: its key for --kinds, its name and a maker
// of its path and body.
type kind struct {
	key  string
	name string
	req  func(*rand.Rand) (string, any)
}

type client struct {
	url, token string
	http       *http.Client
}

// post sends body as JSON and decodes the answer into out (when not nil);
// a status other than 200 is an error with the server's message.
func (c *client) post(path string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequest("POST", c.url+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != 200 {
		return fmt.Errorf("%s: %d %s", path, resp.StatusCode, bytes.TrimSpace(data))
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}
