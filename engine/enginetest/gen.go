package enginetest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/laiondb/laiondb/internal/captions"
)

// Words are the vocabulary of generated captions: ordinary words, the
// substrings the essay's checks are known to trip on ('design' contains
// 'desi', 'unisex' and 'sussex' contain 'sex', 'screenshot ' contains
// 'hot '), mixed case, and non-ASCII text whose lower case differs in
// length or by context ('İ', 'Σ').
var Words = []string{
	"beautiful", "woman", "dress", "design", "Desi", "DESI", "aunty", "wedding",
	"saree", "photo", "stock", "image", "vector", "screenshot", "hot", "HOT",
	"sussex", "unisex", "Sex", "adult", "porn", "xxx", "fuck", "rape", "grape",
	"the", "a", "of", "in", "with", "red", "blue", "İstanbul", "ΟΔΟΣ", "Σ",
	"naïve", "café", "東京", "Straße", "ǅemal", "desired", "Hot-dog",
}

// NSFWValues are the generated nsfw labels: the three documented ones and
// two unexpected values real files hold.
var NSFWValues = []string{"UNLIKELY", "UNSURE", "NSFW", "None", ""}

// Generate returns a deterministic LAION-like store of n rows with columns
// sample_id (int), url, text, nsfw, license (string), width (int),
// similarity (float, with NaN, 6016.0, -2 and nulls), and dim-dimensional
// embeddings (none when dim is 0). About 2% of texts and nsfw labels are
// null. The text target 'beautiful' resolves to a fixed vector.
func Generate(n, dim int, seed uint64) *Store {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	ids := make([]int64, n)
	urls := make([]string, n)
	texts := make([]string, n)
	textNull := make([]bool, n)
	nsfw := make([]string, n)
	nsfwNull := make([]bool, n)
	lic := make([]string, n)
	width := make([]int64, n)
	sim := make([]float64, n)
	simNull := make([]bool, n)
	vocab := captions.Vocabulary{Words: Words}
	caption := func(k int) string {
		c := vocab.Caption(rng, k)
		if rng.IntN(4) == 0 {
			c += " "
		}
		return c
	}
	for i := range n {
		ids[i] = int64(1000 + 3*i)
		urls[i] = "https://img.example.com/" + strings.ReplaceAll(caption(1+rng.IntN(3)), " ", "-") + fmt.Sprintf("/%d.jpg", i)
		if rng.IntN(50) == 0 {
			textNull[i] = true
		} else {
			texts[i] = caption(1 + rng.IntN(8))
		}
		switch x := rng.IntN(100); {
		case x < 2:
			nsfwNull[i] = true
		case x < 80:
			nsfw[i] = "UNLIKELY"
		case x < 92:
			nsfw[i] = "UNSURE"
		case x < 98:
			nsfw[i] = "NSFW"
		default:
			nsfw[i] = NSFWValues[3+rng.IntN(2)]
		}
		lic[i] = []string{"?", "?", "?", "cc-by", "cc0"}[rng.IntN(5)]
		width[i] = int64(64 + rng.IntN(1024))
		switch x := rng.IntN(200); {
		case x == 0:
			sim[i] = math.NaN()
		case x == 1:
			sim[i] = 6016.0
		case x == 2:
			sim[i] = -2
		case x == 3:
			simNull[i] = true
		default:
			sim[i] = 0.25 + 0.2*rng.Float64()
		}
	}
	s := New(n).
		AddInts("sample_id", ids, nil).
		AddStrings("url", urls, nil).
		AddStrings("text", texts, textNull).
		AddStrings("nsfw", nsfw, nsfwNull).
		AddStrings("license", lic, nil).
		AddInts("width", width, nil).
		AddFloats("similarity", sim, simNull)
	if dim > 0 {
		vecs := make([][]float32, n)
		for i := range vecs {
			vecs[i] = make([]float32, dim)
			for j := range vecs[i] {
				vecs[i][j] = float32(rng.NormFloat64())
			}
		}
		s.SetVectors(vecs)
		q := make([]float32, dim)
		for j := range q {
			q[j] = float32(math.Sin(float64(j + 1)))
		}
		s.SetText("beautiful", q)
	}
	return s
}
