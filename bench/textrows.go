package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/laiondb/laiondb/db"
	"github.com/laiondb/laiondb/demodata"
	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/engine/enginetest"
	"github.com/laiondb/laiondb/internal/captions"
	"github.com/laiondb/laiondb/query"
)

// TextRows is a generated LAION-like metadata table for text-scan
// benchmarks: captions (TEXT) and NSFW labels, with nulls.
type TextRows struct {
	Text     []string
	TextNull []bool
	NSFW     []string
	NSFWNull []bool
}

var (
	captionVocabulary = captions.Vocabulary{Capitalize: 8, Words: strings.Fields(`photo image picture stock vector illustration beautiful woman man girl boy wedding
		dress red blue green black white vintage modern house garden kitchen interior logo icon background pattern
		floral art print poster t-shirt shoes bag watch car street city beach sunset mountain dog cat food recipe
		cake chocolate coffee table chair sofa lamp living room bedroom ring gold silver necklace earrings saree
		lehenga kurta mehndi bollywood actress model fashion portrait close-up hand holding smiling happy family
		christmas birthday party card flowers roses tree forest river lake sky clouds night lights indian punjabi
		traditional festival holi diwali temple aunty bride groom couple love hot summer winter autumn spring`)}
	// Words carrying the probe substring 'desi' (any case); "design" and
	// friends match it too, as Python's 'desi' in str(x).lower() does.
	desiWords   = []string{"desi", "Desi", "DESI", "desi-style", "Desi's", "desire", "Desiree", "desiccated"}
	designWords = []string{"design", "Design", "DESIGN", "designer", "Designs", "designed", "redesign", "interior-design"}
	// A few captions in other scripts, with no ASCII 'desi'.
	otherCaptions = []string{"देसी लड़की साड़ी में", "Café crème à Paris", "Straße in München", "東京の夜景", "Dési vintage",
		"ДИЗАЙН интерьера", "ｄｅｓｉ fullwidth", "naïve désign"}
)

// GenerateTextRows makes n rows deterministically from seed: about 0.6% of
// captions contain a 'desi' word, 2.5% a 'design' word, 1% are in other
// scripts and 0.5% are null; NSFW is UNLIKELY (~85%), UNSURE (~11%), NSFW
// (~3.5%) or, for ~0.5%, an odd value ("None", "nsfw", "unlikely ",
// "UNSURE\t", "") or null, as real LAION parts hold.
func GenerateTextRows(n int, seed uint64) *TextRows {
	r := rand.New(rand.NewPCG(seed, 0x7e47))
	t := &TextRows{Text: make([]string, n), TextNull: make([]bool, n), NSFW: make([]string, n), NSFWNull: make([]bool, n)}
	for i := range n {
		switch u := r.Float64(); {
		case u < 0.005:
			t.TextNull[i] = true
		case u < 0.015:
			t.Text[i] = otherCaptions[r.IntN(len(otherCaptions))]
		default:
			words := 4 + r.IntN(12)
			special := -1
			var pool []string
			switch v := r.Float64(); {
			case v < 0.006:
				special, pool = r.IntN(words), desiWords
			case v < 0.031:
				special, pool = r.IntN(words), designWords
			}
			c := captionVocabulary.With(r, words, special, pool)
			if r.IntN(20) == 0 {
				c += `, "quoted", with comma`
			}
			t.Text[i] = c
		}
		t.NSFW[i], t.NSFWNull[i] = drawNSFW(r)
	}
	return t
}

// drawNSFW draws an NSFW label: UNLIKELY (~85%), UNSURE (~11%), NSFW
// (~3.5%), an odd value ("None", "nsfw", "unlikely ", "UNSURE\t", "") for
// ~0.3%, or null (~0.2%), as real LAION parts hold.
func drawNSFW(r *rand.Rand) (label string, null bool) {
	switch u := r.Float64(); {
	case u < 0.85:
		return "UNLIKELY", false
	case u < 0.96:
		return "UNSURE", false
	case u < 0.995:
		return "NSFW", false
	case u < 0.998:
		odd := []string{"None", "nsfw", "unlikely ", "UNSURE\t", ""}
		return odd[r.IntN(len(odd))], false
	}
	return "", true
}

// NullLabel is the group key of rows whose NSFW is null.
const NullLabel = "<null>"

// CountDesiByNSFW is the straightforward Go baseline: for each row,
// 'desi' in lower(TEXT) (null never matches), counted by NSFW label on one
// goroutine. The fast path folds ASCII in place; other text goes through
// strings.ToLower.
func CountDesiByNSFW(t *TextRows, needle string) map[string]int {
	out := map[string]int{}
	for i, s := range t.Text {
		if t.TextNull[i] || !containsFold(s, needle) {
			continue
		}
		k := t.NSFW[i]
		if t.NSFWNull[i] {
			k = NullLabel
		}
		out[k]++
	}
	return out
}

// containsFold reports whether lower(s) contains needle (lower-case ASCII).
func containsFold(s, needle string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return strings.Contains(strings.ToLower(s), needle)
		}
	}
	n := len(needle)
	for i := 0; i+n <= len(s); i++ {
		j := 0
		for ; j < n; j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != needle[j] {
				break
			}
		}
		if j == n {
			return true
		}
	}
	return false
}

// TextStore loads rows into the query engine's in-memory store (package
// enginetest), the laiondb side of the text-scan comparison until db's
// on-disk store is benchmarked here too: swap this for db.Open to measure
// the store's column reads as well.
func TextStore(t *TextRows) engine.Store {
	s := enginetest.New(len(t.Text))
	s.AddStrings("text", t.Text, t.TextNull)
	s.AddStrings("nsfw", t.NSFW, t.NSFWNull)
	return s
}

// QueryDesiByNSFW runs "all where text contains 'desi'" through
// query.Parse / engine.Run and returns the NSFW counts of the selected rows.
func QueryDesiByNSFW(ctx context.Context, s engine.Store, needle string) (map[string]int, error) {
	q, err := query.Parse(fmt.Sprintf("all where text contains '%s'", needle))
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	res, err := engine.Run(ctx, s, q, nil)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	out := map[string]int{}
	if res.NSFW != nil {
		for _, v := range res.NSFW.Values {
			k := v.Value
			if v.Null {
				k = NullLabel
			}
			out[k] += v.Count
		}
	}
	return out, nil
}

// FormatCounts prints counts sorted by label, for comparing systems.
func FormatCounts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%q:%d ", k, m[k])
	}
	return strings.TrimSpace(b.String())
}

// DBTextStore writes the rows as a LAION-400M metadata part (TEXT and NSFW;
// SAMPLE_ID is the row number), ingests it into a new laiondb store in dir
// and returns a snapshot of the store with a function closing it. This is
// what `laiondb query` scans: Badger column blocks, not memory.
func DBTextStore(ctx context.Context, t *TextRows, dir string) (engine.Store, func() error, error) {
	rows := make([]demodata.Row, len(t.Text))
	for i := range rows {
		rows[i].SampleID = int64(i)
		if !t.TextNull[i] {
			rows[i].Text = &t.Text[i]
		}
		if !t.NSFWNull[i] {
			rows[i].NSFW = &t.NSFW[i]
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, fmt.Errorf("bench: %w", err)
	}
	part := filepath.Join(dir, "part-00000.parquet")
	if err := demodata.WriteParquet(part, "laion400m", rows); err != nil {
		return nil, nil, fmt.Errorf("bench: writing %s: %w", part, err)
	}
	d, err := db.Open(filepath.Join(dir, "store"), nil)
	if err != nil {
		return nil, nil, fmt.Errorf("bench: %w", err)
	}
	if _, err := d.Ingest(ctx, []db.Source{{Metadata: part}}, nil); err != nil {
		d.Close()
		return nil, nil, fmt.Errorf("bench: %w", err)
	}
	s, err := d.Snapshot()
	if err != nil {
		d.Close()
		return nil, nil, err
	}
	return s, d.Close, nil
}
