package vector

import "testing"

// TestRowsInMemory: rows of a matrix in the heap are resident, of either
// element type; asking for them, or for rows past the end, is harmless.
func TestRowsInMemory(t *testing.T) {
	for k, m := range []Matrix{
		{Dim: 4, F16: make([]uint16, 4*1000)},
		{Dim: 4, F32: make([]float32, 4*1000)},
		{Dim: 4},
	} {
		m.WillNeed([]uint32{0, 500, 999, 1000, 1 << 30})
		for _, i := range []int{0, 999, -1, 1000} {
			if !m.RowResident(i) {
				t.Errorf("matrix %d: row %d not resident", k, i)
			}
		}
	}
}
