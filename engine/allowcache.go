package engine

import (
	"context"
	"sort"
	"strings"
	"sync"

	"github.com/cespare/xxhash/v2"

	"github.com/laiondb/laiondb/internal/lru"
)

// AllowCache keeps the allow-lists of where clauses already evaluated, so
// that searches with the same where on the same store content (a server
// answering many knn queries with one filter) do not scan the rows again.
// An entry is keyed by the store's fingerprint, the canonical predicate
// and the keywords of the user lexicons; a predicate that reads a file
// (in file(...)) is never kept, since the file may change. The cache holds
// at most its byte budget of bitsets, dropping the least recently used.
// It is safe for concurrent use; the bitsets it hands out are shared and
// never changed. Searches that miss the same entry at once compute it
// once: the others wait for the first one's answer.
type AllowCache struct {
	c    *lru.Cache[string, *selected]
	mu   sync.Mutex
	busy map[string]*flight // entries being computed
}

// flight is an entry being computed; done is closed when it is, and sel
// is then its answer (nil if the computation failed).
type flight struct {
	done chan struct{}
	sel  *selected
}

// NewAllowCache returns a cache of at most maxBytes of allow-lists (a
// store of n rows costs n/8 bytes an entry).
func NewAllowCache(maxBytes int64) *AllowCache {
	return &AllowCache{c: lru.New[string, *selected](maxBytes), busy: map[string]*flight{}}
}

// Stats returns the cache's hits and misses so far.
func (c *AllowCache) Stats() (hits, misses int64) { return c.c.Stats() }

func (c *AllowCache) get(key string) *selected {
	sel, _ := c.c.Get(key)
	return sel
}

// do returns the entry of key, computing it with compute (and keeping it)
// when it is absent; cached reports that the answer was not computed by
// this call. While one call computes an entry, the others with the same
// key wait for it, or for their ctx; when that computation fails, they
// try again themselves.
func (c *AllowCache) do(ctx context.Context, key string, compute func() (*selected, error)) (sel *selected, cached bool, err error) {
	for {
		c.mu.Lock()
		if sel := c.get(key); sel != nil {
			c.mu.Unlock()
			return sel, true, nil
		}
		if f := c.busy[key]; f != nil {
			c.mu.Unlock()
			select {
			case <-f.done:
				if f.sel != nil {
					return f.sel, true, nil
				}
				continue
			case <-ctx.Done():
				return nil, false, ctx.Err()
			}
		}
		f := &flight{done: make(chan struct{})}
		c.busy[key] = f
		c.mu.Unlock()
		sel, err := compute()
		c.mu.Lock()
		if err == nil {
			c.put(key, sel)
			f.sel = sel
		}
		delete(c.busy, key)
		c.mu.Unlock()
		close(f.done)
		return sel, false, err
	}
}

func (c *AllowCache) put(key string, sel *selected) {
	c.c.Put(key, sel, int64(len(sel.rows.Words())*8+len(key)+len(sel.how)))
}

// allowKey is the cache key of the plan's where on s, or false when the
// answer may not be kept.
func (p *Plan) allowKey(s Store) (string, bool) {
	if p.opts.AllowCache == nil || p.where == nil {
		return "", false
	}
	q := *p.q
	q.Source, q.Post, q.Sample = nil, nil, nil
	if len((&q).Files()) > 0 {
		return "", false
	}
	var b strings.Builder
	b.WriteString(s.Fingerprint())
	b.WriteByte(0)
	b.WriteString(p.where.expr.String())
	names := make([]string, 0, len(p.opts.Lexicons))
	for n := range p.opts.Lexicons {
		names = append(names, n)
	}
	sort.Strings(names)
	h := xxhash.New()
	for _, n := range names {
		h.WriteString(strings.ToLower(n))
		h.Write([]byte{0})
		for _, kw := range p.opts.Lexicons[n] {
			h.WriteString(kw)
			h.Write([]byte{0})
		}
		h.Write([]byte{1})
	}
	b.WriteByte(0)
	b.Write(h.Sum(nil))
	return b.String(), true
}
