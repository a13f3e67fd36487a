package encode

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func idsOf(t *Tokenizer, text string) []int32 {
	ids, n := t.Tokenize(text)
	return ids[:n]
}

func TestTokenizeKnownAnswers(t *testing.T) {
	tok := clipTokenizer(t)
	for _, tc := range []struct {
		text string
		want []int32
	}{
		{"Hello World!", []int32{49406, 3306, 1002, 256, 49407}},
		{"a photo of a cat", []int32{49406, 320, 1125, 539, 320, 2368, 49407}},
		{"beautiful", []int32{49406, 1215, 49407}},
		{"", []int32{49406, 49407}},
	} {
		if got := idsOf(tok, tc.text); !slices.Equal(got, tc.want) {
			t.Errorf("Tokenize(%q) = %v, want %v", tc.text, got, tc.want)
		}
	}
}

// TestTokenizeReference compares with testdata/tokens.json, written by
// gen_tokens.py running OpenAI CLIP's SimpleTokenizer code.
func TestTokenizeReference(t *testing.T) {
	tok := clipTokenizer(t)
	b, err := os.ReadFile("testdata/tokens.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Text string  `json:"text"`
		IDs  []int32 `json:"ids"`
	}
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	bad := 0
	for _, c := range cases {
		if got := idsOf(tok, c.Text); !slices.Equal(got, c.IDs) {
			bad++
			if bad <= 10 {
				t.Errorf("Tokenize(%q)\n got %v\nwant %v", c.Text, got, c.IDs)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d strings differ from the reference", bad, len(cases))
	}
	t.Logf("%d reference strings checked", len(cases))
}

func TestTokenizePaddingAndTruncation(t *testing.T) {
	tok := clipTokenizer(t)
	ids, n := tok.Tokenize(strings.Repeat("cat ", 200))
	if n != ContextLength || ids[0] != StartOfText || ids[ContextLength-1] != EndOfText {
		t.Fatalf("long text: n=%d first=%d last=%d", n, ids[0], ids[ContextLength-1])
	}
	for _, id := range ids[1 : ContextLength-1] {
		if id != 2368 {
			t.Fatalf("long text: body id %d, want 2368 (cat)", id)
		}
	}
	// 75 words fit exactly; 76 do not.
	ids, n = tok.Tokenize(strings.Repeat("cat ", 75))
	if n != 77 || ids[75] != 2368 || ids[76] != EndOfText {
		t.Fatalf("75 words: n=%d ids=%v", n, ids)
	}
	ids, n = tok.Tokenize("a cat")
	if n != 4 || ids[4] != 0 || ids[76] != 0 {
		t.Fatalf("padding: n=%d ids=%v", n, ids)
	}
	tok2, err := LoadTokenizer(vocabPath(t))
	if err != nil {
		t.Fatal(err)
	}
	tok2.PadID = EndOfText
	ids, _ = tok2.Tokenize("a cat")
	if ids[4] != EndOfText || ids[76] != EndOfText {
		t.Fatalf("pad with EOT: %v", ids)
	}
}

func TestTokenizeCleaning(t *testing.T) {
	tok := clipTokenizer(t)
	same := [][2]string{
		// ftfy's fixes CLIP applies before tokenising.
		{"it\u2019s \u201cgood\u201d", "it's \"good\""},
		{"\ufb01ne \ufb02ower", "fine flower"},
		{"\uff21\uff22\uff23\u3000\uff11\uff12", "abc 12"},
		{"a\x00b\x7fc", "abc"},
		{"\x1b[31mred\x1b[0m", "red"},
		// HTML unescaped (three levels with ftfy when there is no '<').
		{"&amp;amp;amp;", "&"},
		{"  Hello\t\n  World!  ", "hello world!"},
	}
	for _, p := range same {
		if a, b := idsOf(tok, p[0]), idsOf(tok, p[1]); !slices.Equal(a, b) {
			t.Errorf("Tokenize(%q) = %v, want Tokenize(%q) = %v", p[0], a, p[1], b)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"&amp;lt;", "<"},
		{"&ampx &notit; &notin; &#x263a; &#150; &#0; &#xD800;", "&x ¬it; ∉ ☺ – \ufffd \ufffd"},
		{"ΟΔΟΣ Σ", "οδος σ"},
		{"İ", "i\u0307"},
	} {
		if got := cleanText(tc.in); got != tc.want {
			t.Errorf("cleanText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestDecode(t *testing.T) {
	tok := clipTokenizer(t)
	ids, n := tok.Tokenize("A photo of a café!")
	if got := tok.Decode(ids[:n]); got != "a photo of a café !" {
		t.Errorf("Decode = %q", got)
	}
}

// TestHuggingFaceFormats writes the vocabulary as a Hugging Face export
// would (vocab.json + merges.txt, and tokenizer.json) and checks that all
// three loaders agree.
func TestHuggingFaceFormats(t *testing.T) {
	tok := clipTokenizer(t)
	dir := t.TempDir()
	vb, _ := json.Marshal(tok.encoder)
	merges := make([]string, len(tok.ranks))
	for k, r := range tok.ranks {
		merges[r] = k
	}
	os.WriteFile(filepath.Join(dir, "vocab.json"), vb, 0o644)
	os.WriteFile(filepath.Join(dir, "merges.txt"), []byte("#version: 0.2\n"+strings.Join(merges, "\n")+"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "special_tokens_map.json"), []byte(`{"pad_token": "<|endoftext|>"}`), 0o644)
	pairs := make([][2]string, len(merges))
	for i, m := range merges {
		a, b, _ := strings.Cut(m, " ")
		pairs[i] = [2]string{a, b}
	}
	tj, _ := json.Marshal(map[string]any{
		"added_tokens": []map[string]any{{"id": 49406, "content": "<|startoftext|>"}, {"id": 49407, "content": "<|endoftext|>"}},
		"model":        map[string]any{"type": "BPE", "vocab": tok.encoder, "merges": pairs},
	})
	jdir := t.TempDir()
	os.WriteFile(filepath.Join(jdir, "tokenizer.json"), tj, 0o644)

	hf, err := LoadTokenizer(filepath.Join(dir, "vocab.json"))
	if err != nil {
		t.Fatal(err)
	}
	if hf.PadID != EndOfText {
		t.Errorf("vocab.json PadID = %d, want %d from special_tokens_map.json", hf.PadID, EndOfText)
	}
	js, err := LoadTokenizer(filepath.Join(jdir, "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"Hello World!", "a photo of a cat", "Desi aunty in a saree 😀 &amp; 3.14"} {
		want := idsOf(tok, s)
		if got := idsOf(hf, s); !slices.Equal(got, want) {
			t.Errorf("vocab.json: %q → %v, want %v", s, got, want)
		}
		if got := idsOf(js, s); !slices.Equal(got, want) {
			t.Errorf("tokenizer.json: %q → %v, want %v", s, got, want)
		}
	}
}

func TestLoadTokenizerErrors(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"short.txt":      "#version\na b\n",
		"tokenizer.json": `{"model": {"type": "WordPiece"}}`,
	} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o644)
		_, err := LoadTokenizer(p)
		if err == nil || !strings.HasPrefix(err.Error(), "encode: ") || !strings.Contains(err.Error(), name) {
			t.Errorf("LoadTokenizer(%s) error = %v, want an encode: error naming the file", name, err)
		}
	}
	if _, err := LoadTokenizer(filepath.Join(dir, "missing.txt.gz")); err == nil {
		t.Error("missing file: no error")
	}
}

func FuzzTokenize(f *testing.F) {
	tok := clipTokenizer(f)
	for _, s := range []string{"Hello World!", "", "&amp;", "<|endoftext|>", "'s'S", "\xff\xfe", strings.Repeat("é", 100), "😀👍🏽"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ids, n := tok.Tokenize(s)
		if n < 2 || n > ContextLength {
			t.Fatalf("n = %d", n)
		}
		if ids[0] != StartOfText || ids[n-1] != EndOfText {
			t.Fatalf("framing: %v", ids[:n])
		}
		for i, id := range ids[:n] {
			if id < 0 || int(id) >= tok.VocabSize() {
				t.Fatalf("id %d at %d out of range", id, i)
			}
		}
		for _, id := range ids[n:] {
			if id != tok.PadID {
				t.Fatalf("padding %v", ids)
			}
		}
	})
}

func BenchmarkTokenize(b *testing.B) {
	tok := clipTokenizer(b)
	texts := make([]string, 1000)
	for i := range texts {
		texts[i] = fmt.Sprintf("Stock photo %d of a beautiful woman in a red saree, Mumbai wedding #%d", i, i*7)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tok.Tokenize(texts[i%len(texts)])
	}
}
