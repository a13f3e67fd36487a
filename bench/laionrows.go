package bench

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"

	"github.com/laiondb/laiondb/demodata"
)

// LAIONRows is generated LAION-like metadata for measurements at scale:
// captions, URLs and NSFW labels, with nulls and odd values. Unlike
// GenerateTextRows's captions (a few dozen words), its text has the
// statistics that decide what a text index costs: a vocabulary of tens of
// thousands of words drawn by a Zipf law, caption lengths with a long
// tail, numbers and other scripts, and URLs of LAION's length over a
// skewed set of domains.
type LAIONRows struct {
	TextRows
	URL     []string
	URLNull []bool
}

// Rates of the probe words in LAIONRows, per row; each probe is written
// into a caption that would not otherwise hold it (the vocabulary holds
// none of them, see laionVocab). 'bhabhi' and 'istanbul' are the
// selective needles (0.05% and none), 'desi' a word of a few tenths of a
// percent, and the essay2021 keywords together flag about 4% of rows.
var laionProbes = []struct {
	rate  float64
	words []string
}{
	{0.0005, []string{"bhabhi", "Bhabhi", "BHABHI", "bhabhi's"}},
	{0.003, []string{"desi", "Desi", "DESI", "desi-style", "desire", "Desiree"}},
	{0.005, []string{"porn", "Porn", "pornstar"}},
	{0.010, []string{"sex", "sexy", "Sexy", "SEX"}},
	{0.002, []string{"xxx", "XXX"}},
	{0.015, []string{"hot", "Hot", "HOT"}}, // 'hot ' when a word follows
	{0.005, []string{"adult", "Adult", "adults"}},
	{0.001, []string{"fuck", "Fuck", "fucking"}},
	{0.0005, []string{"rape"}},
}

// laionBase are real caption words, the head of the vocabulary.
var laionBase = strings.Fields(`the a of and for in with to on by from at new photo image picture stock
	vector illustration beautiful woman man girl boy wedding dress red blue green black white vintage modern
	house garden kitchen interior logo icon background pattern floral art print poster t-shirt shoes bag watch
	car street city beach sunset mountain dog cat food recipe cake chocolate coffee table chair sofa lamp
	living room bedroom ring gold silver necklace earrings saree lehenga kurta mehndi bollywood actress model
	fashion portrait close-up hand holding smiling happy family christmas birthday party card flowers roses
	tree forest river lake sky clouds night lights indian punjabi traditional festival holi diwali temple
	aunty bride groom couple love summer winter autumn spring free download high quality resolution wallpaper
	hd best ideas home decor women men kids baby size sale set of 2 3 10 black-and-white shirt jacket jeans
	cotton leather wooden glass metal small large mini big old young view front back side top sticker`)

// laionScripts are caption words in other scripts, drawn for 3% of captions.
var laionScripts = strings.Fields(`देसी लड़की साड़ी में शादी फोटो 東京 の 夜景 写真 素材 Straße München Café crème
	à Paris ДИЗАЙН интерьера фото платье свадьба ｄｅｓｉｇｎ naïve Ελλάδα ΣΠΊΤΙ ΟΔΟΣ İzmir'de ürün
	resim مدينة صورة 서울 사진`)

var (
	laionVocabOnce sync.Once
	laionVocab     []string
)

// laionWords returns the vocabulary: laionBase, then 40,000 made-up words
// of one to three syllables (built from a fixed seed), none holding a probe
// or 'istanbul', so that each probe's rate is the one laionProbes sets.
func laionWords() []string {
	laionVocabOnce.Do(func() {
		r := rand.New(rand.NewPCG(20211005, 400))
		onset := strings.Fields(`_ b c d f g h j k l m n p r s t v w z br cr dr fr gr pr tr bl cl fl gl pl sl sh ch th st sp sk sm sn qu`)
		vowel := strings.Fields(`a e i o u a e i o ai ea ee oo ou y ie`)
		coda := strings.Fields(`_ _ _ _ _ _ n r s t l m nd st ng ck rt ll ss x ph`)
		seen := map[string]bool{}
		var words []string
		for _, w := range laionBase {
			if !seen[w] {
				seen[w] = true
				words = append(words, w)
			}
		}
		base := len(words)
		bad := []string{"istanbul"}
		for _, p := range laionProbes {
			bad = append(bad, strings.ToLower(p.words[0]))
		}
		for len(words) < base+40000 {
			var b strings.Builder
			for range []int{1, 1, 2, 2, 3}[r.IntN(5)] {
				for _, part := range []string{onset[r.IntN(len(onset))], vowel[r.IntN(len(vowel))], coda[r.IntN(len(coda))]} {
					if part != "_" {
						b.WriteString(part)
					}
				}
			}
			w := b.String()
			ok := len(w) > 1 && !seen[w]
			for _, x := range bad {
				ok = ok && !strings.Contains(w, x)
			}
			if ok {
				seen[w] = true
				words = append(words, w)
			}
		}
		laionVocab = words
	})
	return laionVocab
}

// laionTLDs are the domains' endings, the first most often.
var laionTLDs = strings.Fields(`.com .com .com .com .com .net .org .co.uk .de .in .ru .jp .fr .com.au .blogspot.com .it .nl .pl .es .info .us .ca`)

// GenerateLAIONRows makes n rows deterministically from seed. Captions
// have a log-normal number of words (median 8, a tail past 60), drawn
// from laionWords by a Zipf law; 3% are in other scripts, 0.5% null, 1%
// upper case, 5% hold a number; the probes of laionProbes appear at their
// rates. URLs (0.1% null) name one of 200,000 made-up domains, drawn by a
// Zipf law, with paths of WordPress uploads, catalogue caches, hashes and
// slugs of the caption, 60–200 bytes. NSFW is as in GenerateTextRows.
func GenerateLAIONRows(n int, seed uint64) *LAIONRows {
	r := rand.New(rand.NewPCG(seed, 0x1a10))
	words := laionWords()
	zw := rand.NewZipf(r, 1.07, 3, uint64(len(words)-1))
	zd := rand.NewZipf(r, 1.2, 5, 200000-1)
	t := &LAIONRows{
		TextRows: TextRows{Text: make([]string, n), TextNull: make([]bool, n), NSFW: make([]string, n), NSFWNull: make([]bool, n)},
		URL:      make([]string, n), URLNull: make([]bool, n),
	}
	seps := []string{" ", " ", " ", " ", " ", " ", " ", " ", ", ", " - ", " | ", ": ", " / "}
	var b strings.Builder
	var slug []string
	for i := range n {
		k := int(math.Round(math.Exp(math.Log(8) + 0.7*r.NormFloat64())))
		k = min(max(k, 1), 120)
		b.Reset()
		slug = slug[:0]
		script := r.Float64() < 0.03
		upper := r.Float64() < 0.01
		for j := range k {
			if j > 0 {
				b.WriteString(seps[r.IntN(len(seps))])
			}
			var w string
			switch {
			case script && r.IntN(2) == 0:
				w = laionScripts[r.IntN(len(laionScripts))]
			case r.IntN(20) == 0:
				w = laionNumber(r)
			default:
				w = words[zw.Uint64()]
				if j == 0 || r.IntN(6) == 0 {
					w = strings.ToUpper(w[:1]) + w[1:]
				}
			}
			if len(slug) < 6 {
				slug = append(slug, strings.ToLower(w))
			}
			b.WriteString(w)
		}
		for _, p := range laionProbes {
			if r.Float64() < p.rate {
				w := p.words[r.IntN(len(p.words))]
				b.WriteByte(' ')
				b.WriteString(w)
				if r.IntN(4) != 0 {
					b.WriteByte(' ')
					b.WriteString(words[zw.Uint64()])
				}
			}
		}
		c := b.String()
		if upper {
			c = strings.ToUpper(c)
		}
		if r.Float64() < 0.005 {
			t.TextNull[i] = true
		} else {
			t.Text[i] = c
		}
		if r.Float64() < 0.001 {
			t.URLNull[i] = true
		} else {
			t.URL[i] = laionURL(r, words, zd.Uint64(), slug)
		}
		t.NSFW[i], t.NSFWNull[i] = drawNSFW(r)
	}
	return t
}

// laionNumber returns a year, a size, a count or a product code.
func laionNumber(r *rand.Rand) string {
	switch r.IntN(4) {
	case 0:
		return fmt.Sprint(1950 + r.IntN(75))
	case 1:
		return fmt.Sprintf("%dx%d", 100*(1+r.IntN(20)), 100*(1+r.IntN(15)))
	case 2:
		return fmt.Sprint(1 + r.IntN(100))
	}
	return fmt.Sprintf("%c%c-%d", 'A'+r.IntN(26), 'A'+r.IntN(26), r.IntN(100000))
}

// laionURL returns an image URL on domain number d.
func laionURL(r *rand.Rand, words []string, d uint64, slug []string) string {
	// The domain's name comes from its number alone, so a domain is
	// the same in every row and every part.
	dr := rand.New(rand.NewPCG(d, 0xd0))
	host := words[len(laionBase)+dr.IntN(len(words)-len(laionBase))]
	if dr.IntN(3) == 0 {
		host += "-" + words[len(laionBase)+dr.IntN(len(words)-len(laionBase))]
	}
	host += laionTLDs[dr.IntN(len(laionTLDs))]
	switch dr.IntN(10) {
	case 0, 1, 2:
		host = "www." + host
	case 3:
		host = "cdn." + host
	case 4:
		host = fmt.Sprintf("i%d.wp.com/%s", dr.IntN(3), host)
	}
	scheme := "https://"
	if r.IntN(5) == 0 {
		scheme = "http://"
	}
	s := strings.Join(slug, "-")
	switch r.IntN(6) {
	case 0, 1:
		return fmt.Sprintf("%s%s/wp-content/uploads/%d/%02d/%s-%d.jpg", scheme, host, 2010+r.IntN(12), 1+r.IntN(12), s, r.IntN(1000))
	case 2:
		return fmt.Sprintf("%s%s/media/catalog/product/cache/1/image/%dx/%016x%016x/%s.jpg", scheme, host, 300*(1+r.IntN(3)), r.Uint64(), r.Uint64(), s)
	case 3:
		return fmt.Sprintf("%s%s/images/%016x.jpg", scheme, host, r.Uint64())
	case 4:
		return fmt.Sprintf("%s%s/%d/%d_%d.jpeg?w=%d", scheme, host, r.IntN(1000000), r.IntN(100000), r.IntN(100000), 200*(1+r.IntN(8)))
	}
	return fmt.Sprintf("%s%s/%s/%s-%d.png", scheme, host, words[len(laionBase)+r.IntN(500)], s, r.IntN(100000))
}

// Parquet writes the rows as a LAION-400M metadata part (SAMPLE_ID is
// base plus the row number; URL, TEXT and NSFW).
func (t *LAIONRows) Parquet(path string, base int64) error {
	rows := make([]demodata.Row, len(t.Text))
	for i := range rows {
		rows[i].SampleID = base + int64(i)
		if !t.TextNull[i] {
			rows[i].Text = &t.Text[i]
		}
		if !t.URLNull[i] {
			rows[i].URL = &t.URL[i]
		}
		if !t.NSFWNull[i] {
			rows[i].NSFW = &t.NSFW[i]
		}
	}
	if err := demodata.WriteParquet(path, "laion400m", rows); err != nil {
		return fmt.Errorf("bench: writing %s: %w", path, err)
	}
	return nil
}
