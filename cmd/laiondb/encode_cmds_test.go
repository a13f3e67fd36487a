package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/laiondb/laiondb/encode"
)

// encodeRoot returns the repository root (two levels up from cmd/laiondb).
func encodeRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// clipVocab returns OpenAI's merges file kept outside the repository at
// ../shared/clip; the test is skipped without it, except under CI.
func clipVocab(t *testing.T) string {
	t.Helper()
	p := filepath.Join(encodeRoot(t), "..", "shared", "clip", "bpe_simple_vocab_16e6.txt.gz")
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CLIP merges file missing under CI: %v", err)
		}
		t.Skipf("CLIP merges file %s is absent; skipping", p)
	}
	return p
}

// needRuntime skips without the ONNX Runtime library, except under CI.
func needRuntime(t *testing.T) {
	t.Helper()
	if err := encode.InitRuntime(""); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("ONNX Runtime under CI: %v", err)
		}
		t.Skipf("ONNX Runtime is not installed (run scripts/install-onnxruntime.sh): %v", err)
	}
}

func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(&env{stdin: strings.NewReader(""), stdout: &o, stderr: &e}, args)
	return code, o.String(), e.String()
}

func TestTokenizeCommand(t *testing.T) {
	vocab := clipVocab(t)
	code, out, errs := runCmd(t, "tokenize", "--vocab", vocab, "Hello World!", "a photo of a cat", "beautiful", "")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	want := "49406 3306 1002 256 49407\n49406 320 1125 539 320 2368 49407\n49406 1215 49407\n49406 49407\n"
	if out != want {
		t.Errorf("output:\n%s\nwant:\n%s", out, want)
	}
	code, out, _ = runCmd(t, "tokenize", "--vocab", vocab, "--full", "cat")
	if f := strings.Fields(out); code != 0 || len(f) != 77 || f[76] != "0" {
		t.Errorf("--full: exit %d, %d ids: %q", code, len(f), out)
	}
	// The tokenizer found in a model folder.
	dir := t.TempDir()
	b, err := os.ReadFile(vocab)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "bpe_simple_vocab_16e6.txt.gz"), b, 0o644)
	code, out, errs = runCmd(t, "tokenize", "--model", dir, "beautiful")
	if code != 0 || out != "49406 1215 49407\n" {
		t.Errorf("--model: exit %d, %q %s", code, out, errs)
	}
}

func TestTokenizeCommandErrors(t *testing.T) {
	t.Setenv(encode.ModelEnv, "")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"tokenize"}, 2, "no text"},
		{[]string{"tokenize", "x"}, 1, encode.ModelEnv},
		{[]string{"tokenize", "--model", "a", "--vocab", "b", "x"}, 2, "not both"},
		{[]string{"tokenize", "--vocab", "/missing/vocab.txt.gz", "x"}, 1, "/missing/vocab.txt.gz"},
		{[]string{"tokenize", "--model", t.TempDir(), "x"}, 1, "no tokenizer"},
	} {
		code, _, errs := runCmd(t, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d mentioning %q", tc.args, code, errs, tc.code, tc.want)
		}
	}
}

func TestSimCommand(t *testing.T) {
	vocab := clipVocab(t)
	needRuntime(t)
	root := encodeRoot(t)
	model := filepath.Join(root, "encode", "testdata", "models", "hf")
	img := filepath.Join(root, "encode", "testdata", "images", "landscape.png")
	code, out, errs := runCmd(t, "sim", "--model", model, "--vocab", vocab, img, "a photo of a cat", "beautiful")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.Contains(lines[0], "tiny-clip-test") || !strings.Contains(lines[0], "dim 32") {
		t.Fatalf("output:\n%s", out)
	}
	for _, l := range lines[2:] {
		f := strings.Fields(l)
		if len(f) < 4 || (f[1] != "kept" && f[1] != "dropped") || (f[2] != "kept" && f[2] != "dropped") {
			t.Errorf("line %q", l)
		}
	}
	if !strings.Contains(lines[2], `"a photo of a cat"`) {
		t.Errorf("first caption line %q", lines[2])
	}
	// The same similarity as the library computes.
	m, err := encode.Open(model, &encode.Options{Vocab: vocab})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	iv, _ := m.EncodeImage(t.Context(), []string{img})
	tv, _ := m.EncodeText(t.Context(), []string{"a photo of a cat"})
	if s := strings.Fields(lines[2])[0]; s != fmtSim(encode.Cosine(iv[0], tv[0])) {
		t.Errorf("cosine %s, library says %s", s, fmtSim(encode.Cosine(iv[0], tv[0])))
	}
}

func fmtSim(s float32) string { return fmt.Sprintf("%.4f", s) }

func TestSimCommandErrors(t *testing.T) {
	t.Setenv(encode.ModelEnv, "")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"sim", "img.png"}, 2, "at least one caption"},
		{[]string{"sim", "img.png", "cap"}, 1, encode.ModelEnv},
		{[]string{"sim", "--model", "/missing/model", "img.png", "cap"}, 1, "/missing/model"},
		{[]string{"sim", "--ort-lib", "/missing/libonnxruntime.so", "--model", filepath.Join(encodeRoot(t), "encode", "testdata", "models", "hf"), "img.png", "cap"}, 1, "install-onnxruntime.sh"},
	} {
		code, _, errs := runCmd(t, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d mentioning %q", tc.args, code, errs, tc.code, tc.want)
		}
	}
}
