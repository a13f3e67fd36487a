// Package oracle is laiondb's differential test kit: a generator of
// awkward LAION-like rows (written as parquet and float16 .npy files) and of
// random queries over the whole query language, each rendered both as
// laiondb query text and as a JSON tree; a client for oracle.py, an
// independent Python (pandas/numpy) implementation of the semantics of
// query/doc.go that shares no code with laiondb; and a comparison of every
// figure of a engine.Result with the oracle's answer.
package oracle

import "math/rand/v2"

// Rand is the randomness the generators draw from: a seeded PCG for the
// differential test, the fuzzer's bytes for FuzzOracle. IntN(n) is in
// [0, n); 0 is always the simplest choice, so that generation from
// exhausted bytes terminates with small queries.
type Rand interface {
	IntN(n int) int
	Float64() float64
}

// NewRand returns a seeded PCG.
func NewRand(seed uint64) Rand { return rand.New(rand.NewPCG(seed, 0x6f7261636c65)) }

// ByteRand draws from b, one or two bytes a choice, and returns 0 once b is
// exhausted.
func ByteRand(b []byte) Rand { return &byteRand{b: b} }

type byteRand struct {
	b []byte
	i int
}

func (r *byteRand) next() uint {
	if r.i >= len(r.b) {
		return 0
	}
	r.i++
	return uint(r.b[r.i-1])
}

func (r *byteRand) IntN(n int) int {
	if n <= 1 {
		return 0
	}
	v := r.next()
	if n > 256 {
		v = v<<8 | r.next()
	}
	return int(v % uint(n))
}

func (r *byteRand) Float64() float64 {
	return float64(r.next()<<8|r.next()) / 65536
}
