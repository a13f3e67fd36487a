package server

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"
)

// metrics counts requests by route and status, and their latency by
// route, in Prometheus's text format (GET /metrics).
type metrics struct {
	mu    sync.Mutex
	count map[[2]string]uint64 // route, code
	hist  map[string]*histogram
}

// latencyBuckets are the upper bounds, in seconds, of the latency
// histogram's buckets.
var latencyBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

type histogram struct {
	buckets []uint64 // cumulative counts are computed when written
	sum     float64
	n       uint64
}

func newMetrics() *metrics {
	return &metrics{count: map[[2]string]uint64{}, hist: map[string]*histogram{}}
}

func (m *metrics) observe(route string, code int, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.count[[2]string{route, strconv.Itoa(code)}]++
	h := m.hist[route]
	if h == nil {
		h = &histogram{buckets: make([]uint64, len(latencyBuckets))}
		m.hist[route] = h
	}
	sec := d.Seconds()
	for i, b := range latencyBuckets {
		if sec <= b {
			h.buckets[i]++
			break
		}
	}
	h.sum += sec
	h.n++
}

func (m *metrics) serve(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	defer m.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	fmt.Fprintln(w, "# HELP laiondb_http_requests_total HTTP requests by route and status code.")
	fmt.Fprintln(w, "# TYPE laiondb_http_requests_total counter")
	keys := make([][2]string, 0, len(m.count))
	for k := range m.count {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i][0] < keys[j][0] || keys[i][0] == keys[j][0] && keys[i][1] < keys[j][1]
	})
	for _, k := range keys {
		fmt.Fprintf(w, "laiondb_http_requests_total{route=%q,code=%q} %d\n", k[0], k[1], m.count[k])
	}
	fmt.Fprintln(w, "# HELP laiondb_http_request_duration_seconds HTTP request latency by route.")
	fmt.Fprintln(w, "# TYPE laiondb_http_request_duration_seconds histogram")
	routes := make([]string, 0, len(m.hist))
	for r := range m.hist {
		routes = append(routes, r)
	}
	sort.Strings(routes)
	for _, route := range routes {
		h := m.hist[route]
		var cum uint64
		for i, b := range latencyBuckets {
			cum += h.buckets[i]
			fmt.Fprintf(w, "laiondb_http_request_duration_seconds_bucket{route=%q,le=%q} %d\n", route, strconv.FormatFloat(b, 'g', -1, 64), cum)
		}
		fmt.Fprintf(w, "laiondb_http_request_duration_seconds_bucket{route=%q,le=\"+Inf\"} %d\n", route, h.n)
		fmt.Fprintf(w, "laiondb_http_request_duration_seconds_sum{route=%q} %g\n", route, h.sum)
		fmt.Fprintf(w, "laiondb_http_request_duration_seconds_count{route=%q} %d\n", route, h.n)
	}
}
