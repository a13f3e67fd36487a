package lru

import "testing"

func TestCache(t *testing.T) {
	c := New[string, int](10)
	c.Put("a", 1, 4)
	c.Put("b", 2, 4)
	if v, ok := c.Get("a"); !ok || v != 1 { // a is now the most recent
		t.Fatalf("a: %v %v", v, ok)
	}
	c.Put("c", 3, 4) // 12 bytes: b, the least recent, goes
	if _, ok := c.Get("b"); ok {
		t.Fatal("b was kept past the budget")
	}
	for _, k := range []string{"a", "c"} {
		if _, ok := c.Get(k); !ok {
			t.Fatalf("%s was dropped", k)
		}
	}
	c.Put("big", 9, 11) // larger than the budget: not kept
	c.Put("a", 7, 1)    // a key already kept stays
	if v, _ := c.Get("a"); v != 1 {
		t.Fatalf("a = %d after a second Put", v)
	}
	if _, ok := c.Get("big"); ok {
		t.Fatal("a value over the budget was kept")
	}
	if b, n := c.Usage(); b != 8 || n != 2 {
		t.Fatalf("usage %d bytes, %d values; want 8, 2", b, n)
	}
	if h, m := c.Stats(); h != 4 || m != 2 {
		t.Fatalf("stats %d hits, %d misses; want 4, 2", h, m)
	}
}
