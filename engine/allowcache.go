package engine

import (
	"container/list"
	"sort"
	"strings"
	"sync"

	"github.com/cespare/xxhash/v2"
)

// AllowCache keeps the allow-lists of where clauses already evaluated, so
// that searches with the same where on the same store content (a server
// answering many knn queries with one filter) do not scan the rows again.
// An entry is keyed by the store's fingerprint, the canonical predicate
// and the keywords of the user lexicons; a predicate that reads a file
// (in file(...)) is never kept, since the file may change. The cache holds
// at most its byte budget of bitsets, dropping the least recently used.
// It is safe for concurrent use; the bitsets it hands out are shared and
// never changed.
type AllowCache struct {
	mu     sync.Mutex
	max    int64
	used   int64
	ll     *list.List // of *allowEntry, most recent first
	byKey  map[string]*list.Element
	hits   int64
	misses int64
}

type allowEntry struct {
	key   string
	sel   *selected
	bytes int64
}

// NewAllowCache returns a cache of at most maxBytes of allow-lists (a
// store of n rows costs n/8 bytes an entry).
func NewAllowCache(maxBytes int64) *AllowCache {
	return &AllowCache{max: maxBytes, ll: list.New(), byKey: map[string]*list.Element{}}
}

// Stats returns the cache's hits and misses so far.
func (c *AllowCache) Stats() (hits, misses int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits, c.misses
}

func (c *AllowCache) get(key string) *selected {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byKey[key]; ok {
		c.ll.MoveToFront(e)
		c.hits++
		return e.Value.(*allowEntry).sel
	}
	c.misses++
	return nil
}

func (c *AllowCache) put(key string, sel *selected) {
	size := int64(len(sel.rows.Words())*8 + len(key) + len(sel.how))
	c.mu.Lock()
	defer c.mu.Unlock()
	if size > c.max {
		return
	}
	if _, ok := c.byKey[key]; ok {
		return
	}
	c.byKey[key] = c.ll.PushFront(&allowEntry{key, sel, size})
	c.used += size
	for c.used > c.max {
		e := c.ll.Back()
		ent := e.Value.(*allowEntry)
		c.ll.Remove(e)
		delete(c.byKey, ent.key)
		c.used -= ent.bytes
	}
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
