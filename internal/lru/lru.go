// Package lru is laiondb's one least-recently-used cache: values kept up
// to a budget of bytes, the least recently used dropped first. The
// store's decoded column blocks and the engine's allow-lists use it.
package lru

import (
	"container/list"
	"sync"
)

// Cache keeps values of type V by key, up to its byte budget. It is safe
// for concurrent use; values are handed out shared, so callers must not
// change them.
type Cache[K comparable, V any] struct {
	mu     sync.Mutex
	max    int64
	used   int64
	ll     *list.List // of *entry[K, V], most recent first
	byKey  map[K]*list.Element
	hits   int64
	misses int64
}

type entry[K comparable, V any] struct {
	key   K
	val   V
	bytes int64
}

// New returns a cache of at most maxBytes.
func New[K comparable, V any](maxBytes int64) *Cache[K, V] {
	return &Cache[K, V]{max: maxBytes, ll: list.New(), byKey: map[K]*list.Element{}}
}

// Get returns the value kept for k and true, or false, and counts a hit
// or a miss.
func (c *Cache[K, V]) Get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byKey[k]; ok {
		c.ll.MoveToFront(e)
		c.hits++
		return e.Value.(*entry[K, V]).val, true
	}
	c.misses++
	var zero V
	return zero, false
}

// Put keeps v, which takes bytes of memory, under k, dropping the least
// recently used values until the cache is within its budget. A value
// larger than the budget, or a key already kept, is left as it is.
func (c *Cache[K, V]) Put(k K, v V, bytes int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if bytes > c.max {
		return
	}
	if _, ok := c.byKey[k]; ok {
		return
	}
	c.byKey[k] = c.ll.PushFront(&entry[K, V]{k, v, bytes})
	c.used += bytes
	for c.used > c.max {
		e := c.ll.Back()
		old := e.Value.(*entry[K, V])
		c.ll.Remove(e)
		delete(c.byKey, old.key)
		c.used -= old.bytes
	}
}

// Max returns the budget in bytes.
func (c *Cache[K, V]) Max() int64 { return c.max }

// Usage returns the bytes kept and the number of values.
func (c *Cache[K, V]) Usage() (bytes int64, values int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.used, c.ll.Len()
}

// Stats returns the hits and misses of Get so far.
func (c *Cache[K, V]) Stats() (hits, misses int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits, c.misses
}
