package ivf

import "golang.org/x/sys/cpu"

var haveDotsI8Asm = cpu.X86.HasAVX2

// dotsI8Asm is dotsI8Go in AVX2 assembly (centres8_amd64.s): n rows of
// dim int8 values (a multiple of 32) at v, each row's inner product with
// the dim int16 values at q written to dst.
//
//go:noescape
func dotsI8Asm(q *int16, v *int8, dim, n int, dst *int32)
