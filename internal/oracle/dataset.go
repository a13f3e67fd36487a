package oracle

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/snappy"
	"github.com/x448/float16"

	"github.com/laiondb/laiondb/internal/captions"
	"github.com/laiondb/laiondb/internal/npy"
)

// Row is one generated row. Nil pointers are nulls; which columns a row
// has depends on the layout of its part.
type Row struct {
	SampleID   *int64
	Key        *string
	URL        *string
	Text       *string
	Height     *int32
	Width      *int32
	License    *string
	NSFW       *string
	Similarity *float64
	Punsafe    *float32
	Pwatermark *float32
	Limit      *float64 // a column named by a keyword
	By         *string  // a column named by a keyword
	And        *int32   // a column named by a keyword
}

// laion400m is the layout of LAION-400M metadata parts, plus columns
// whose names are keywords. Every column may be null.
type laion400m struct {
	SampleID   *int64   `parquet:"SAMPLE_ID,optional"`
	URL        *string  `parquet:"URL,optional"`
	Text       *string  `parquet:"TEXT,optional"`
	Height     *int32   `parquet:"HEIGHT,optional"`
	Width      *int32   `parquet:"WIDTH,optional"`
	License    *string  `parquet:"LICENSE,optional"`
	NSFW       *string  `parquet:"NSFW,optional"`
	Similarity *float64 `parquet:"similarity,optional"`
	Limit      *float64 `parquet:"LIMIT,optional"`
	By         *string  `parquet:"by,optional"`
	And        *int32   `parquet:"And,optional"`
}

// laion5b is the layout of clip-retrieval / LAION-5B metadata: caption
// instead of TEXT, key instead of SAMPLE_ID, float32 punsafe and pwatermark.
type laion5b struct {
	URL        *string  `parquet:"url,optional"`
	Caption    *string  `parquet:"caption,optional"`
	Key        *string  `parquet:"key,optional"`
	NSFW       *string  `parquet:"NSFW,optional"`
	Similarity *float64 `parquet:"similarity,optional"`
	Punsafe    *float32 `parquet:"punsafe,optional"`
	Pwatermark *float32 `parquet:"pwatermark,optional"`
	Width      *int32   `parquet:"width,optional"`
	Height     *int32   `parquet:"height,optional"`
	License    *string  `parquet:"LICENSE,optional"`
	Limit      *float64 `parquet:"LIMIT,optional"`
	By         *string  `parquet:"by,optional"`
	And        *int32   `parquet:"And,optional"`
}

// Part is one metadata parquet file and its image embeddings.
type Part struct {
	Layout  string // "laion400m" or "laion5b"
	Parquet string
	Npy     string
	Rows    []Row
}

// Dataset is a generated store input: parts in store order, their rows and
// vectors, and .npy files for vector('...') targets.
type Dataset struct {
	Name  string
	Dir   string
	Dim   int
	Parts []Part
	// Rows are all rows in store order; Vecs their float16 vectors as
	// written (float32 copies of the exact values).
	Rows []Row
	Vecs [][]float32
	// Dups lists rows whose vector exactly equals another row's.
	Dups []int
	// Npy are paths for vector('...') targets; the bad ones are errors.
	Npy, BadNpy []string
}

// Config sizes a dataset.
type Config struct {
	Seed uint64
	// PartRows is the number of rows of each part, in store order; parts
	// alternate the LAION-400M and LAION-5B layouts.
	PartRows []int
	Dim      int
}

func ptr[T any](v T) *T { return &v }

// Words of captions and URLs: the essay's keywords with and without their
// spaces, words that contain them, and text whose lowering is special.
var words = []string{
	"desi", "design", "Desi", "DESI", "designer", "hot ", "hot", "screenshot ", "hotel", "HOT",
	"unisex", "sussex", "Sussex", " rape ", "grape ", "rapeseed", "porn", "adult", "xxx", "XXX",
	"sex", "fuck", "İstanbul", "İ", "ẞ", "STRASSE", "Straße", "ß", "ΟΔΟΣ", "οδος", "Σ", "ς",
	"ı", "ıi", "\u212a", "\u212aelvin", "kelvin", "word_desi", "desi_", "_desi", "desi2", "2desi",
	"desi-2", "café", "naïve", "😀", "it's", "a", "photo", "of", "cat", "HOT DOG", "Hot Sauce",
	"sex-ed", "σ", "Å", "ä", "1.0", "0.3", "6016", "nan", "None", "e+308", "xXx", "pornography",
	"adulthood", "ADULT", "FuCk", "the", "İi̇", "hot\tdog", "k", "s", "ſ",
}

// textVocabulary joins them with spaces, nothing, or punctuation.
var textVocabulary = captions.Vocabulary{Words: words, Seps: []string{" ", " ", " ", "", "-", "_", "/", ", ", "  "}}

func genText(r Rand) string { return textVocabulary.Caption(r, 1+r.IntN(5)) }

func genURL(r Rand) string {
	hosts := []string{"img.example.com", "HOT.example.com", "cdn.desi.in", "example.com", "xn--sussex.uk", "İmg.example.com"}
	s := []string{"https://", "http://", "HTTPS://"}[r.IntN(3)] + hosts[r.IntN(len(hosts))]
	for i := r.IntN(3); i >= 0; i-- {
		w := words[r.IntN(len(words))]
		switch r.IntN(3) {
		case 0:
			w = url(w)
		}
		s += "/" + w
	}
	return s + []string{".jpg", ".png", "", "?q=hot%20dog", "/"}[r.IntN(5)]
}

// url percent-encodes spaces, as real URLs do.
func url(s string) string {
	out := ""
	for _, c := range s {
		if c == ' ' {
			out += "%20"
		} else {
			out += string(c)
		}
	}
	return out
}

var (
	nsfwValues    = []string{"UNLIKELY", "UNLIKELY", "UNLIKELY", "UNSURE", "NSFW", "", "unlikely", "Nsfw", "None", "nsfw ", "UNLIKELY "}
	licenseValues = []string{"?", "?", "cc-by", "CC-BY", "640", ""}
	byValues      = []string{"a", "b", "A", "", "ß"}
	sampleIDEdges = []int64{0, -1, 1 << 53, 1<<53 + 1, math.MaxInt64, math.MinInt64, 6016, 1e15 + 1}
	intEdges      = []int32{0, 1, -1, 512, 640, math.MaxInt32, math.MinInt32, 6016}
	// Similarity values: the invalid ones, the boundaries and the odd.
	simEdges = []float64{math.NaN(), math.Inf(1), math.Inf(-1), 6016, 1, 0.3, -0.5, -1, -1.5, 0,
		math.Copysign(0, -1), 5e-324, 2.2250738585072014e-308 / 4, 1e308, -1e308, 0.30000000000000004, 0.29999999999999999}
	f32Edges = []float32{0.1, 0.3, 1, 0.5, 0, float32(math.NaN()), 1e-45, 6016}
)

func pick[T any](r Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// maybe returns v, or nil one time in nullEvery.
func maybe[T any](r Rand, nullEvery int, v T) *T {
	if r.IntN(nullEvery) == 0 {
		return nil
	}
	return &v
}

func genRow(r Rand, layout string, idx int) Row {
	row := Row{
		URL:     maybe(r, 12, genURL(r)),
		Text:    maybe(r, 10, genText(r)),
		License: maybe(r, 8, pick(r, licenseValues)),
		NSFW:    maybe(r, 8, pick(r, nsfwValues)),
		By:      maybe(r, 5, pick(r, byValues)),
		And:     maybe(r, 5, int32(r.IntN(4))),
	}
	if r.IntN(20) == 0 {
		row.Text = ptr("")
	}
	dim := func() int32 {
		if r.IntN(4) == 0 {
			return pick(r, intEdges)
		}
		return int32(100 + r.IntN(900))
	}
	row.Width = maybe(r, 9, dim())
	row.Height = maybe(r, 9, dim())
	if r.IntN(2) == 0 {
		row.Similarity = maybe(r, 6, pick(r, simEdges))
	} else {
		row.Similarity = maybe(r, 12, 0.25+0.12*r.Float64())
	}
	switch r.IntN(4) {
	case 0:
		row.Limit = nil
	case 1:
		row.Limit = ptr(pick(r, []float64{0.5, 1, math.NaN(), 1e-3, -2}))
	default:
		row.Limit = ptr(r.Float64())
	}
	if layout == "laion5b" {
		row.Key = maybe(r, 10, fmt.Sprintf("%09d", idx))
		f := func() float32 {
			if r.IntN(3) == 0 {
				return pick(r, f32Edges)
			}
			return float32(r.Float64())
		}
		row.Punsafe = maybe(r, 8, f())
		row.Pwatermark = maybe(r, 8, f())
	} else {
		if r.IntN(4) == 0 {
			row.SampleID = maybe(r, 6, pick(r, sampleIDEdges))
		} else {
			row.SampleID = maybe(r, 10, int64(idx)*7+3)
		}
	}
	return row
}

// Generate writes a dataset into dir: parquet parts with float16 .npy
// image embeddings of dimension cfg.Dim, and query .npy files.
func Generate(dir string, cfg Config) (*Dataset, error) {
	r := NewRand(cfg.Seed)
	if cfg.Dim == 0 {
		cfg.Dim = 8
	}
	ds := &Dataset{Name: fmt.Sprintf("seed%d-%v", cfg.Seed, cfg.PartRows), Dir: dir, Dim: cfg.Dim}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	total := 0
	for _, n := range cfg.PartRows {
		total += n
	}
	centers := make([][]float64, 6)
	for i := range centers {
		centers[i] = unit(randVec(r, cfg.Dim))
	}
	seenIDs := map[int64]bool{}
	for p, n := range cfg.PartRows {
		layout := []string{"laion400m", "laion5b"}[p%2]
		part := Part{Layout: layout}
		for i := 0; i < n; i++ {
			row := genRow(r, layout, len(ds.Rows))
			if row.SampleID != nil { // SAMPLE_IDs are unique: id(N) names one row
				if seenIDs[*row.SampleID] {
					row.SampleID = ptr(int64(len(ds.Rows))*7 + 3)
				}
				if seenIDs[*row.SampleID] {
					row.SampleID = nil
				} else {
					seenIDs[*row.SampleID] = true
				}
			}
			part.Rows = append(part.Rows, row)
			var v []float32
			if len(ds.Vecs) > 0 && r.IntN(8) == 0 {
				// An exact duplicate of an earlier row's vector: ties.
				j := r.IntN(len(ds.Vecs))
				v = append([]float32(nil), ds.Vecs[j]...)
				ds.Dups = append(ds.Dups, j, len(ds.Vecs))
			} else {
				v = genVec(r, centers, cfg.Dim)
			}
			ds.Vecs = append(ds.Vecs, v)
			ds.Rows = append(ds.Rows, row)
		}
		idx := strconv.Itoa(p)
		part.Parquet = filepath.Join(dir, "metadata_"+idx+".parquet")
		part.Npy = filepath.Join(dir, "img_emb_"+idx+".npy")
		if err := writeParquet(part.Parquet, layout, part.Rows); err != nil {
			return nil, err
		}
		if err := writeF16(part.Npy, ds.Vecs[len(ds.Vecs)-n:], cfg.Dim); err != nil {
			return nil, err
		}
		ds.Parts = append(ds.Parts, part)
	}
	// Query vectors in files: float16 and float32, one equal to a row's
	// vector; and files that are errors (wrong dimension, zeros, two
	// vectors, missing).
	q16 := filepath.Join(dir, "q16.npy")
	q32 := filepath.Join(dir, "q32.npy")
	qrow := filepath.Join(dir, "qrow.npy")
	if err := writeF16(q16, [][]float32{genVec(r, centers, cfg.Dim)}, cfg.Dim); err != nil {
		return nil, err
	}
	// Two vectors in one file: an error, never its first row.
	qtwo := filepath.Join(dir, "qtwo.npy")
	if err := writeF16(qtwo, [][]float32{genVec(r, centers, cfg.Dim), genVec(r, centers, cfg.Dim)}, cfg.Dim); err != nil {
		return nil, err
	}
	v32 := make([]float32, cfg.Dim)
	for i, x := range randVec(r, cfg.Dim) {
		v32[i] = float32(3 * x)
	}
	if err := npy.WriteFloat32(q32, v32, cfg.Dim); err != nil {
		return nil, err
	}
	if err := writeF16(qrow, [][]float32{ds.Vecs[r.IntN(len(ds.Vecs))]}, cfg.Dim); err != nil {
		return nil, err
	}
	ds.Npy = []string{q16, q32, qrow}
	qdim := filepath.Join(dir, "qdim.npy")
	qzero := filepath.Join(dir, "qzero.npy")
	if err := npy.WriteFloat32(qdim, make([]float32, cfg.Dim+1), cfg.Dim+1); err != nil {
		return nil, err
	}
	if err := npy.WriteFloat32(qzero, make([]float32, cfg.Dim), cfg.Dim); err != nil {
		return nil, err
	}
	ds.BadNpy = []string{qdim, qzero, qtwo, filepath.Join(dir, "missing.npy")}
	return ds, nil
}

func randVec(r Rand, dim int) []float64 {
	v := make([]float64, dim)
	for i := range v {
		// A sum of uniforms: roughly normal, enough for directions.
		v[i] = r.Float64() + r.Float64() + r.Float64() - 1.5
	}
	return v
}

func unit(v []float64) []float64 {
	var ss float64
	for _, x := range v {
		ss += x * x
	}
	n := math.Sqrt(ss)
	if n == 0 {
		v[0], n = 1, 1
	}
	for i := range v {
		v[i] /= n
	}
	return v
}

// genVec draws a vector near a cluster center, unit-norm but for a factor
// 1±δ (δ < 0.009, below the store's 1e-2 normalisation threshold), rounded
// to float16.
func genVec(r Rand, centers [][]float64, dim int) []float32 {
	for {
		c := centers[r.IntN(len(centers))]
		v := randVec(r, dim)
		for i := range v {
			v[i] = c[i] + 0.35*v[i]
		}
		v = unit(v)
		scale := 1 + 0.018*(r.Float64()-0.5)
		out := make([]float32, dim)
		var ss float64
		for i := range v {
			out[i] = float16.Fromfloat32(float32(v[i] * scale)).Float32()
			ss += float64(out[i]) * float64(out[i])
		}
		if math.Abs(math.Sqrt(ss)-1) < 0.0095 {
			return out
		}
	}
}

func writeF16(path string, vecs [][]float32, dim int) error {
	h := make([]uint16, 0, len(vecs)*dim)
	for _, v := range vecs {
		for _, x := range v {
			h = append(h, float16.Fromfloat32(x).Bits())
		}
	}
	return npy.WriteFloat16(path, h, dim)
}

func writeParquet(path, layout string, rows []Row) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	var werr error
	switch layout {
	case "laion400m":
		w := parquet.NewGenericWriter[laion400m](f, parquet.Compression(&snappy.Codec{}))
		recs := make([]laion400m, len(rows))
		for i, r := range rows {
			recs[i] = laion400m{r.SampleID, r.URL, r.Text, r.Height, r.Width, r.License, r.NSFW, r.Similarity, r.Limit, r.By, r.And}
		}
		if _, werr = w.Write(recs); werr == nil {
			werr = w.Close()
		}
	case "laion5b":
		w := parquet.NewGenericWriter[laion5b](f, parquet.Compression(&snappy.Codec{}))
		recs := make([]laion5b, len(rows))
		for i, r := range rows {
			recs[i] = laion5b{r.URL, r.Text, r.Key, r.NSFW, r.Similarity, r.Punsafe, r.Pwatermark, r.Width, r.Height, r.License, r.Limit, r.By, r.And}
		}
		if _, werr = w.Write(recs); werr == nil {
			werr = w.Close()
		}
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	return werr
}

// column is one column of a part as the oracle receives it.
type column struct {
	Name   string `json:"name"`
	Type   string `json:"type"`
	Values []any  `json:"values"`
}

func fstr(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// LoadRequest is the oracle's load request for the dataset: the columns of
// each part under their parquet names, with explicit float spellings
// ("NaN", "+Inf"), and the .npy paths.
func (ds *Dataset) LoadRequest() ([]byte, error) {
	type part struct {
		Columns []column `json:"columns"`
		Npy     string   `json:"npy"`
	}
	req := struct {
		Op      string `json:"op"`
		Dataset string `json:"dataset"`
		Parts   []part `json:"parts"`
	}{Op: "load", Dataset: ds.Name}
	for _, p := range ds.Parts {
		cols := map[string]*column{}
		var order []string
		add := func(name, typ string, v any) {
			c := cols[name]
			if c == nil {
				c = &column{Name: name, Type: typ}
				cols[name] = c
				order = append(order, name)
			}
			c.Values = append(c.Values, v)
		}
		str := func(s *string) any {
			if s == nil {
				return nil
			}
			return *s
		}
		i32 := func(x *int32) any {
			if x == nil {
				return nil
			}
			return *x
		}
		f64 := func(x *float64) any {
			if x == nil {
				return nil
			}
			return fstr(*x)
		}
		f32 := func(x *float32) any {
			if x == nil {
				return nil
			}
			return fstr(float64(*x))
		}
		for _, r := range p.Rows {
			if p.Layout == "laion400m" {
				var id any
				if r.SampleID != nil {
					id = *r.SampleID
				}
				add("SAMPLE_ID", "int", id)
				add("URL", "string", str(r.URL))
				add("TEXT", "string", str(r.Text))
				add("HEIGHT", "int", i32(r.Height))
				add("WIDTH", "int", i32(r.Width))
				add("LICENSE", "string", str(r.License))
				add("NSFW", "string", str(r.NSFW))
				add("similarity", "float64", f64(r.Similarity))
			} else {
				add("url", "string", str(r.URL))
				add("caption", "string", str(r.Text))
				add("key", "string", str(r.Key))
				add("NSFW", "string", str(r.NSFW))
				add("similarity", "float64", f64(r.Similarity))
				add("punsafe", "float32", f32(r.Punsafe))
				add("pwatermark", "float32", f32(r.Pwatermark))
				add("width", "int", i32(r.Width))
				add("height", "int", i32(r.Height))
				add("LICENSE", "string", str(r.License))
			}
			add("LIMIT", "float64", f64(r.Limit))
			add("by", "string", str(r.By))
			add("And", "int", i32(r.And))
		}
		pp := part{Npy: p.Npy}
		for _, name := range order {
			pp.Columns = append(pp.Columns, *cols[name])
		}
		req.Parts = append(req.Parts, pp)
	}
	return json.Marshal(req)
}
