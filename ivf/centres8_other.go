//go:build !amd64

package ivf

const haveDotsI8Asm = false

func dotsI8Asm(q *int16, v *int8, dim, n int, dst *int32) {
	panic("ivf: dotsI8Asm on a platform without it")
}
