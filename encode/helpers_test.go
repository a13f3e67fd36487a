package encode

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// vocabPath returns OpenAI's merges file, kept outside the repository at
// ../shared/clip/ relative to the repo root. Without it the test is skipped,
// except under CI, where it fails.
func vocabPath(t testing.TB) string {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(root, "..", "shared", "clip", "bpe_simple_vocab_16e6.txt.gz")
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CLIP merges file missing under CI: %v", err)
		}
		t.Skipf("CLIP merges file %s is absent (put OpenAI's bpe_simple_vocab_16e6.txt.gz there); skipping", p)
	}
	return p
}

var (
	tokOnce sync.Once
	tokVal  *Tokenizer
	tokErr  error
)

// clipTokenizer loads the reference tokenizer once per test binary.
func clipTokenizer(t testing.TB) *Tokenizer {
	t.Helper()
	p := vocabPath(t)
	tokOnce.Do(func() { tokVal, tokErr = LoadTokenizer(p) })
	if tokErr != nil {
		t.Fatal(tokErr)
	}
	return tokVal
}

// needORT skips the test when the ONNX Runtime library is absent, unless
// CI is set, in which case it fails.
func needORT(t testing.TB) {
	t.Helper()
	if err := InitRuntime(""); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("ONNX Runtime under CI: %v", err)
		}
		t.Skipf("ONNX Runtime is not installed (run scripts/install-onnxruntime.sh): %v", err)
	}
}
