package ivf

const haveEstimatesAsm = true

// estimatesAsm is estimatesGo in assembly (pq_amd64.s): n codes of sub
// bytes (a multiple of 8) at codes, their estimates from table (sub×256)
// written to dst.
//
//go:noescape
func estimatesAsm(table *float32, codes *byte, n, sub int, dst *float32)
