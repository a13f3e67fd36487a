package encode

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
)

// Token ids and sizes of OpenAI's CLIP tokenizer.
const (
	// ContextLength is the number of token ids a CLIP text tower takes.
	ContextLength = 77
	// StartOfText is the id of <|startoftext|>.
	StartOfText = 49406
	// EndOfText is the id of <|endoftext|>.
	EndOfText = 49407
)

// clipMerges is how many merges of bpe_simple_vocab_16e6.txt CLIP uses:
// merges[1:49152-256-2+1] in its SimpleTokenizer.
const clipMerges = 49152 - 256 - 2

// clipPattern is CLIP's pre-tokenisation pattern.
var clipPattern = regexp.MustCompile(`(?i)<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+`)

// maxCache bounds the number of words the BPE cache holds.
const maxCache = 1 << 16

// Tokenizer is CLIP's byte-level BPE tokenizer (OpenAI's SimpleTokenizer,
// which open_clip and Hugging Face's CLIPTokenizer reproduce). It is safe
// for concurrent use.
type Tokenizer struct {
	encoder map[string]int32
	ranks   map[string]int // "a b" → merge rank
	sot     int32
	eot     int32
	// PadID is the id that fills a tokenized text to ContextLength: 0 as in
	// OpenAI's clip.tokenize and open_clip, or a Hugging Face export's pad
	// token (often <|endoftext|>) when its tokenizer files name one.
	PadID int32

	mu    sync.RWMutex
	cache map[string][]int32
}

// byteEncoder is CLIP's bytes_to_unicode: every byte maps to a printable
// rune, printable Latin-1 bytes to themselves.
var byteEncoder, byteRunes = bytesToUnicode()

func bytesToUnicode() (enc [256]string, order []rune) {
	var printable [256]bool
	var bs []int
	for _, rg := range [][2]int{{'!', '~'}, {0xa1, 0xac}, {0xae, 0xff}} {
		for b := rg[0]; b <= rg[1]; b++ {
			printable[b] = true
			bs = append(bs, b)
		}
	}
	cs := make([]rune, len(bs))
	for i, b := range bs {
		cs[i] = rune(b)
	}
	n := 0
	for b := 0; b < 256; b++ {
		if !printable[b] {
			bs = append(bs, b)
			cs = append(cs, rune(256+n))
			n++
		}
	}
	for i, b := range bs {
		enc[b] = string(cs[i])
	}
	return enc, cs
}

// LoadTokenizer reads a tokenizer from a file: OpenAI's merges file
// (bpe_simple_vocab_16e6.txt.gz, or uncompressed), a Hugging Face
// tokenizer.json, or a vocab.json whose merges.txt sits next to it.
func LoadTokenizer(path string) (*Tokenizer, error) {
	base := filepath.Base(path)
	switch {
	case strings.HasSuffix(base, ".json") && base != "vocab.json":
		return loadTokenizerJSON(path)
	case base == "vocab.json":
		return loadVocabMerges(path, filepath.Join(filepath.Dir(path), "merges.txt"))
	case base == "merges.txt":
		return loadVocabMerges(filepath.Join(filepath.Dir(path), "vocab.json"), path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("encode: tokenizer: %w", err)
	}
	defer f.Close()
	var r io.Reader = bufio.NewReader(f)
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("encode: tokenizer %s: %w", path, err)
		}
		defer zr.Close()
		r = zr
	}
	t, err := NewTokenizer(r)
	if err != nil {
		return nil, fmt.Errorf("encode: tokenizer %s: %w", path, err)
	}
	return t, nil
}

// NewTokenizer builds the tokenizer from OpenAI's merges file (the text of
// bpe_simple_vocab_16e6.txt: a version line, then one merge per line), with
// the vocabulary built exactly as CLIP's SimpleTokenizer builds it.
func NewTokenizer(merges io.Reader) (*Tokenizer, error) {
	data, err := io.ReadAll(merges)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(string(data), "\n")
	if len(lines) < clipMerges+1 {
		return nil, fmt.Errorf("merges file has %d lines, CLIP needs %d", len(lines), clipMerges+1)
	}
	lines = lines[1 : clipMerges+1]
	t := newTokenizer()
	vocab := make([]string, 0, 49408)
	for _, r := range byteRunes {
		vocab = append(vocab, string(r))
	}
	for _, r := range byteRunes {
		vocab = append(vocab, string(r)+"</w>")
	}
	for i, l := range lines {
		a, b, ok := splitMerge(l)
		if !ok {
			return nil, fmt.Errorf("merge %d: %q is not two tokens", i+1, l)
		}
		t.ranks[a+" "+b] = i
		vocab = append(vocab, a+b)
	}
	vocab = append(vocab, "<|startoftext|>", "<|endoftext|>")
	for i, v := range vocab {
		t.encoder[v] = int32(i)
	}
	t.sot, t.eot = int32(len(vocab)-2), int32(len(vocab)-1)
	return t, nil
}

func newTokenizer() *Tokenizer {
	return &Tokenizer{
		encoder: make(map[string]int32, 49408),
		ranks:   make(map[string]int, clipMerges),
		cache:   make(map[string][]int32),
	}
}

func splitMerge(l string) (a, b string, ok bool) {
	f := strings.Fields(l)
	if len(f) != 2 {
		return "", "", false
	}
	return f[0], f[1], true
}

// loadVocabMerges reads a Hugging Face CLIPTokenizer's vocab.json and
// merges.txt.
func loadVocabMerges(vocabPath, mergesPath string) (*Tokenizer, error) {
	vb, err := os.ReadFile(vocabPath)
	if err != nil {
		return nil, fmt.Errorf("encode: tokenizer: %w", err)
	}
	t := newTokenizer()
	if err := json.Unmarshal(vb, &t.encoder); err != nil {
		return nil, fmt.Errorf("encode: tokenizer %s: %w", vocabPath, err)
	}
	mb, err := os.ReadFile(mergesPath)
	if err != nil {
		return nil, fmt.Errorf("encode: tokenizer: %w", err)
	}
	rank := 0
	for i, l := range strings.Split(string(mb), "\n") {
		if strings.HasPrefix(l, "#version") || strings.TrimSpace(l) == "" {
			continue
		}
		a, b, ok := splitMerge(l)
		if !ok {
			return nil, fmt.Errorf("encode: tokenizer %s: line %d: %q is not two tokens", mergesPath, i+1, l)
		}
		t.ranks[a+" "+b] = rank
		rank++
	}
	if err := t.finishHF(filepath.Dir(vocabPath)); err != nil {
		return nil, fmt.Errorf("encode: tokenizer %s: %w", vocabPath, err)
	}
	return t, nil
}

// loadTokenizerJSON reads a Hugging Face tokenizers tokenizer.json whose
// model is BPE.
func loadTokenizerJSON(path string) (*Tokenizer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("encode: tokenizer: %w", err)
	}
	var tj struct {
		Model struct {
			Type   string            `json:"type"`
			Vocab  map[string]int32  `json:"vocab"`
			Merges []json.RawMessage `json:"merges"`
		} `json:"model"`
		Padding *struct {
			PadID int32 `json:"pad_id"`
		} `json:"padding"`
		AddedTokens []struct {
			ID      int32  `json:"id"`
			Content string `json:"content"`
		} `json:"added_tokens"`
	}
	if err := json.Unmarshal(b, &tj); err != nil {
		return nil, fmt.Errorf("encode: tokenizer %s: %w", path, err)
	}
	if tj.Model.Type != "BPE" || len(tj.Model.Vocab) == 0 {
		return nil, fmt.Errorf("encode: tokenizer %s: model type %q is not a CLIP BPE tokenizer", path, tj.Model.Type)
	}
	t := newTokenizer()
	t.encoder = tj.Model.Vocab
	for _, at := range tj.AddedTokens {
		t.encoder[at.Content] = at.ID
	}
	for i, m := range tj.Model.Merges {
		var s string
		var pair []string
		if json.Unmarshal(m, &s) == nil {
			a, b, ok := splitMerge(s)
			if !ok {
				return nil, fmt.Errorf("encode: tokenizer %s: merge %d: %q is not two tokens", path, i, s)
			}
			pair = []string{a, b}
		} else if err := json.Unmarshal(m, &pair); err != nil || len(pair) != 2 {
			return nil, fmt.Errorf("encode: tokenizer %s: merge %d: %s is not two tokens", path, i, m)
		}
		t.ranks[pair[0]+" "+pair[1]] = i
	}
	if err := t.finishHF(filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("encode: tokenizer %s: %w", path, err)
	}
	if tj.Padding != nil {
		t.PadID = tj.Padding.PadID
	}
	return t, nil
}

// finishHF sets the special ids of a Hugging Face vocabulary and its pad id
// from special_tokens_map.json or tokenizer_config.json, when dir has them.
func (t *Tokenizer) finishHF(dir string) error {
	var ok1, ok2 bool
	t.sot, ok1 = t.encoder["<|startoftext|>"]
	t.eot, ok2 = t.encoder["<|endoftext|>"]
	if !ok1 || !ok2 {
		return errors.New("vocabulary has no <|startoftext|> or <|endoftext|>")
	}
	for _, name := range []string{"special_tokens_map.json", "tokenizer_config.json"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			continue
		}
		var m struct {
			PadToken json.RawMessage `json:"pad_token"`
		}
		if json.Unmarshal(b, &m) != nil || len(m.PadToken) == 0 {
			continue
		}
		var s string
		var obj struct {
			Content string `json:"content"`
		}
		if json.Unmarshal(m.PadToken, &s) != nil && json.Unmarshal(m.PadToken, &obj) == nil {
			s = obj.Content
		}
		if id, ok := t.encoder[s]; ok {
			t.PadID = id
			return nil
		}
	}
	return nil
}

// VocabSize returns the number of token ids.
func (t *Tokenizer) VocabSize() int { return len(t.encoder) }

// Encode returns the BPE token ids of text after CLIP's cleaning, without
// <|startoftext|>, <|endoftext|>, truncation or padding.
func (t *Tokenizer) Encode(text string) []int32 {
	text = cleanText(text)
	var ids []int32
	for _, tok := range clipPattern.FindAllString(text, -1) {
		ids = append(ids, t.bpe(tok)...)
	}
	return ids
}

// Tokenize returns the ContextLength ids a CLIP text tower takes for text:
// <|startoftext|>, the BPE ids, <|endoftext|>, then PadID. A text too long
// is cut, keeping <|endoftext|> as the last id, as clip.tokenize(truncate=
// True) and open_clip do. The second result is the number of ids before
// the padding (the attention mask's ones).
func (t *Tokenizer) Tokenize(text string) (ids [ContextLength]int32, n int) {
	ids[0] = t.sot
	n = 1
	for _, id := range t.Encode(text) {
		if n == ContextLength-1 {
			break
		}
		ids[n] = id
		n++
	}
	ids[n] = t.eot
	n++
	for i := n; i < ContextLength; i++ {
		ids[i] = t.PadID
	}
	return ids, n
}

// Decode returns the text of token ids (lower-cased and cleaned, with
// spaces where words ended); special and padding ids are skipped.
func (t *Tokenizer) Decode(ids []int32) string {
	dec := make(map[int32]string, len(t.encoder))
	for k, v := range t.encoder {
		dec[v] = k
	}
	byteOf := make(map[rune]byte, 256)
	for b, s := range byteEncoder {
		byteOf[[]rune(s)[0]] = byte(b)
	}
	var buf bytes.Buffer
	for _, id := range ids {
		if id == t.sot || id == t.eot {
			continue
		}
		s, ok := dec[id]
		if !ok {
			continue
		}
		s = strings.ReplaceAll(s, "</w>", " ")
		for _, r := range s {
			if b, ok := byteOf[r]; ok {
				buf.WriteByte(b)
			} else {
				buf.WriteRune(r)
			}
		}
	}
	return strings.TrimSpace(buf.String())
}

// bpe returns the ids of one pre-token, caching the result.
func (t *Tokenizer) bpe(token string) []int32 {
	switch token {
	case "<|startoftext|>":
		return []int32{t.sot}
	case "<|endoftext|>":
		return []int32{t.eot}
	}
	t.mu.RLock()
	ids, ok := t.cache[token]
	t.mu.RUnlock()
	if ok {
		return ids
	}
	word := make([]string, 0, len(token))
	for i := 0; i < len(token); i++ {
		word = append(word, byteEncoder[token[i]])
	}
	word[len(word)-1] += "</w>"
	for len(word) > 1 {
		best, bestRank := -1, int(^uint(0)>>1)
		for i := 0; i+1 < len(word); i++ {
			if r, ok := t.ranks[word[i]+" "+word[i+1]]; ok && r < bestRank {
				best, bestRank = i, r
			}
		}
		if best < 0 {
			break
		}
		first, second := word[best], word[best+1]
		merged := word[:0:0]
		for i := 0; i < len(word); {
			if i+1 < len(word) && word[i] == first && word[i+1] == second {
				merged = append(merged, first+second)
				i += 2
			} else {
				merged = append(merged, word[i])
				i++
			}
		}
		word = merged
	}
	ids = make([]int32, 0, len(word))
	for _, w := range word {
		id, ok := t.encoder[w]
		if !ok {
			// Every byte is in CLIP's vocabulary, so this happens only with
			// a foreign vocabulary: fall back to the single bytes.
			for _, r := range strings.TrimSuffix(w, "</w>") {
				ids = append(ids, t.encoder[string(r)])
			}
			continue
		}
		ids = append(ids, id)
	}
	t.mu.Lock()
	if len(t.cache) >= maxCache {
		clear(t.cache)
	}
	t.cache[token] = ids
	t.mu.Unlock()
	return ids
}

// OpenTokenizer loads the tokenizer from vocab when it is not empty, else
// from the model folder dir (or $LAIONDB_MODEL when dir is empty), looking
// for TokenizerFiles in order. It needs no ONNX Runtime.
func OpenTokenizer(dir, vocab string) (*Tokenizer, error) {
	if vocab != "" {
		return LoadTokenizer(vocab)
	}
	if dir == "" {
		dir = os.Getenv(ModelEnv)
	}
	if dir == "" {
		return nil, fmt.Errorf("encode: no tokenizer: give a model folder or a vocabulary file, or set %s", ModelEnv)
	}
	p := firstFile(dir, TokenizerFiles)
	if p == "" {
		return nil, fmt.Errorf("encode: model folder %s has no tokenizer: looked for %s", dir, strings.Join(TokenizerFiles, ", "))
	}
	return LoadTokenizer(p)
}
