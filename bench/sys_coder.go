package bench

import (
	"bufio"
	"context"
	"fmt"
	"math/rand"
	"os"
	"sync"

	coder "github.com/coder/hnsw"
)

// github.com/coder/hnsw v0.6.1 as served: M=16, its default Ml=0.25 and
// cosine distance, level generator seeded with 0. Its Add is not safe for
// concurrent use, so the 2-thread build runs in a subprocess whose crash is
// reported rather than taking the harness down.
func init() {
	RegisterGo("coder-hnsw", func() *GoSystem {
		return &GoSystem{
			Name:                 "coder-hnsw",
			Params:               "M=16",
			Knob:                 "ef",
			Sweep:                []int{16, 64, 256},
			Note:                 "github.com/coder/hnsw v0.6.1; vectors referenced, not copied",
			ConcurrentBuildProbe: true,
			Build:                buildCoder,
			Save: func(s Searcher, path string) error {
				f, err := os.Create(path)
				if err != nil {
					return fmt.Errorf("bench: %w", err)
				}
				w := bufio.NewWriter(f)
				if err := s.(*coderIndex).g.Export(w); err != nil {
					f.Close()
					return fmt.Errorf("bench: coder export: %w", err)
				}
				if err := w.Flush(); err != nil {
					f.Close()
					return fmt.Errorf("bench: %w", err)
				}
				return f.Close()
			},
			Open: func(path, _ string) (Searcher, error) {
				f, err := os.Open(path)
				if err != nil {
					return nil, fmt.Errorf("bench: %w", err)
				}
				defer f.Close()
				g := coder.NewGraph[uint32]()
				if err := g.Import(bufio.NewReader(f)); err != nil {
					return nil, fmt.Errorf("bench: coder import: %w", err)
				}
				return &coderIndex{g: g, ef: g.EfSearch}, nil
			},
		}
	})
}

func buildCoder(ctx context.Context, ds *Dataset, threads int) (s Searcher, err error) {
	g := coder.NewGraph[uint32]()
	g.M = 16
	g.Rng = rand.New(rand.NewSource(0))
	g.EfSearch = 200 // its Add has no separate efConstruction
	d := ds.Dim
	add := func(lo, hi int) {
		for i := lo; i < hi; i++ {
			if i%4096 == 0 && ctx.Err() != nil {
				return
			}
			g.Add(coder.MakeNode(uint32(i), ds.Base[i*d:(i+1)*d]))
		}
	}
	if threads <= 1 {
		add(0, ds.N)
	} else {
		// Concurrent Add, as an ingest with several workers would do.
		// A panic is recovered and reported; "concurrent map writes" is a
		// fatal runtime error that no recover catches, hence the subprocess.
		var wg sync.WaitGroup
		var mu sync.Mutex
		for t := range threads {
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() {
					if p := recover(); p != nil {
						mu.Lock()
						err = fmt.Errorf("recovered panic: %v", p)
						mu.Unlock()
					}
				}()
				add(t*ds.N/threads, (t+1)*ds.N/threads)
			}()
		}
		wg.Wait()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	g.EfSearch = 64
	return &coderIndex{g: g, ef: 64}, nil
}

// coderIndex serialises changes of EfSearch (a plain field the library reads
// during Search) against concurrent searches.
type coderIndex struct {
	mu sync.RWMutex
	g  *coder.Graph[uint32]
	ef int
}

func (c *coderIndex) Search(q []float32, k, ef int, dst []int32) []int32 {
	c.mu.RLock()
	if ef > 0 && ef != c.ef {
		c.mu.RUnlock()
		c.mu.Lock()
		c.g.EfSearch, c.ef = ef, ef
		c.mu.Unlock()
		c.mu.RLock()
	}
	nodes := c.g.Search(q, k)
	c.mu.RUnlock()
	for _, n := range nodes {
		dst = append(dst, int32(n.Key))
	}
	return dst
}
