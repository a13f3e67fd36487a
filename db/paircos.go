package db

import (
	"context"
	"fmt"
	"math"

	"github.com/dgraph-io/badger/v4"

	"github.com/laiondb/laiondb/table"
	"github.com/laiondb/laiondb/vector"
)

// PairCosColumn is the computed column holding, for every row that has
// both an image and a text embedding, the cosine similarity of the two:
// the score LAION's 'similarity' column was meant to be, recomputed from
// the stored vectors. Rows lacking either embedding have null. Ingest
// computes it for each segment with both embeddings and stores it like a
// column of the source; a source file with a column of this name is
// refused.
const PairCosColumn = "pair_cos"

// pairCos returns the cosine of row i's image and text embeddings,
// computed in float64 from the stored values (float16 widens exactly), so
// that it is the same on every machine and equals numpy's
// (a @ b) / (norm(a) * norm(b)) over the float64 vectors up to the order of
// summation (about 1e-15).
func pairCos(img, txt vector.Matrix, i int, a, b []float32) float64 {
	a = img.Row(i, a)
	b = txt.Row(i, b)
	var dot, na, nb float64
	for j := range a {
		x, y := float64(a[j]), float64(b[j])
		dot += x * y
		na += x * x
		nb += y * y
	}
	if na == 0 || nb == 0 {
		return math.NaN()
	}
	return dot / (math.Sqrt(na) * math.Sqrt(nb))
}

// writePairCos writes the pair_cos blocks of segment seg (rows
// [seg.Base, seg.Base+seg.Rows) of img and txt) into bdb under column id col.
func writePairCos(ctx context.Context, bdb *badger.DB, seg *Segment, col uint16, img, txt vector.Matrix) error {
	wb := newBlockBatch(bdb)
	defer wb.Cancel()
	a := make([]float32, img.Dim)
	b := make([]float32, txt.Dim)
	cb := newColBuilder(table.TypeFloat)
	for start := int64(0); start < seg.Rows; start += blockRows {
		if err := ctx.Err(); err != nil {
			return err
		}
		cb.reset()
		n := min(blockRows, seg.Rows-start)
		for r := range n {
			cb.appendFloat(pairCos(img, txt, int(seg.Base+start+r), a, b))
		}
		if err := wb.Set(blockKey(seg.ID, col, uint32(start)), cb.encode()); err != nil {
			return fmt.Errorf("db: writing %s of %s: %w", PairCosColumn, seg.Name, err)
		}
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("db: writing %s of %s: %w", PairCosColumn, seg.Name, err)
	}
	return nil
}
