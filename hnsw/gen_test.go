package hnsw

import (
	"math"
	"math/rand/v2"
	"runtime"
	"sync"

	"github.com/laiondb/laiondb/vector"
)

// clipLike returns n seeded CLIP-like float16 vectors: unit norm, clustered
// (n/100 clusters, at least 10) and anisotropic, with typical random-pair
// cosine around 0.4, like ViT-B/32 image embeddings.
func clipLike(n, dim int, seed uint64) vector.Matrix {
	return vector.Matrix{Dim: dim, F16: clipLikeF32(n, dim, seed, func(dst []uint16, src []float32) { vector.F32ToF16(dst, src) })}
}

// clipLikeF32 generates the vectors and hands each one to put.
func clipLikeF32(n, dim int, seed uint64, put func(dst []uint16, src []float32)) []uint16 {
	r := rand.New(rand.NewPCG(seed, 0x1a10))
	unit := func(v []float32) {
		vector.Normalize(v)
	}
	common := make([]float32, dim)
	for i := range common {
		common[i] = float32(r.NormFloat64())
	}
	unit(common)
	nc := max(10, n/100)
	// Cluster centres live in a skewed subspace too.
	centres := make([][]float32, nc)
	for c := range centres {
		v := make([]float32, dim)
		for i := range v {
			v[i] = float32(r.NormFloat64() / math.Sqrt(float64(i+1)))
		}
		unit(v)
		centres[c] = v
	}
	scale := make([]float32, dim)
	var ss float64
	for i := range scale {
		s := 1 / math.Sqrt(float64(i+1))
		scale[i] = float32(s)
		ss += s * s
	}
	for i := range scale {
		scale[i] /= float32(math.Sqrt(ss))
	}
	const wCommon, wCentre, wNoise = 0.63, 0.5, 0.6
	out := make([]uint16, n*dim)
	workers := runtime.GOMAXPROCS(0)
	const chunk = 4096
	var wg sync.WaitGroup
	var mu sync.Mutex
	next := 0
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v := make([]float32, dim)
			for {
				mu.Lock()
				lo := next
				next += chunk
				mu.Unlock()
				if lo >= n {
					return
				}
				cr := rand.New(rand.NewPCG(seed, uint64(lo)))
				for row := lo; row < min(lo+chunk, n); row++ {
					c := centres[cr.IntN(nc)]
					for i := range v {
						v[i] = wCommon*common[i] + wCentre*c[i] + wNoise*scale[i]*float32(cr.NormFloat64())
					}
					unit(v)
					put(out[row*dim:(row+1)*dim], v)
				}
			}
		}()
	}
	wg.Wait()
	return out
}
