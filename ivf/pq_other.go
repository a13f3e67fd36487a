//go:build !amd64

package ivf

const haveEstimatesAsm = false

func estimatesAsm(table *float32, codes *byte, n, sub int, dst *float32) {
	panic("ivf: estimatesAsm on a platform without it")
}
