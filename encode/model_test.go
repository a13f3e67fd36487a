package encode

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Tolerance of embeddings against gen_models.py's numpy values: ONNX
// Runtime computes in float32 (the reference in float64), and the values
// are stored rounded to 7 decimals.
const embTol = 2e-5

func openTiny(t *testing.T, folder string) *Model {
	t.Helper()
	needORT(t)
	m, err := Open(filepath.Join("testdata/models", folder), &Options{Vocab: vocabPath(t), BatchSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func closeTo(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	worst := 0.0
	for i := range got {
		worst = math.Max(worst, math.Abs(float64(got[i]-want[i])))
	}
	if worst > embTol {
		t.Errorf("%s: differs from the numpy reference by up to %g (tolerance %g)", what, worst, embTol)
	}
}

func TestTextTowers(t *testing.T) {
	exp := loadExpected(t)
	texts := make([]string, len(exp.Texts))
	for i, e := range exp.Texts {
		texts[i] = e.Text
	}
	for _, folder := range []string{"hf", "hf-mask", "combined", "openclip"} {
		t.Run(folder, func(t *testing.T) {
			m := openTiny(t, folder)
			if m.Dim() != exp.Dim {
				t.Fatalf("Dim = %d, want %d", m.Dim(), exp.Dim)
			}
			got, err := m.EncodeText(context.Background(), texts)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(texts) {
				t.Fatalf("%d embeddings for %d texts", len(got), len(texts))
			}
			for i, e := range exp.Texts {
				closeTo(t, folder+": "+e.Text, got[i], e.Embedding)
			}
		})
	}
}

func TestImageTowers(t *testing.T) {
	exp := loadExpected(t)
	for _, folder := range []string{"hf", "combined", "openclip"} {
		t.Run(folder, func(t *testing.T) {
			m := openTiny(t, folder)
			var paths []string
			for _, e := range exp.Images {
				paths = append(paths, filepath.Join("testdata/images", e.File))
			}
			got, err := m.EncodeImage(context.Background(), paths)
			if err != nil {
				t.Fatal(err)
			}
			for i, e := range exp.Images {
				tol := embTol
				if maxDiffs[e.File] > 0 {
					// Decoders differ (see maxDiffs): embeddings are close, not equal.
					tol = 0.05
				}
				worst := 0.0
				for j := range got[i] {
					worst = math.Max(worst, math.Abs(float64(got[i][j]-e.Embedding[j])))
				}
				if worst > tol {
					t.Errorf("%s: %s differs from the Pillow+numpy reference by %g (tolerance %g)", folder, e.File, worst, tol)
				}
			}
		})
	}
}

func TestOpenMetadata(t *testing.T) {
	m := openTiny(t, "hf")
	if m.Name() != "tiny-clip-test" {
		t.Errorf("Name = %q, want tiny-clip-test from config.json", m.Name())
	}
	if !m.HasText() || !m.HasImage() || m.ImageSize() != 224 {
		t.Errorf("HasText %v HasImage %v ImageSize %d", m.HasText(), m.HasImage(), m.ImageSize())
	}
	m2 := openTiny(t, "openclip")
	if m2.Name() != "openclip" {
		t.Errorf("Name = %q, want the folder name", m2.Name())
	}
	if RuntimeVersion() == "" {
		t.Error("RuntimeVersion empty")
	}
}

func TestOpenErrors(t *testing.T) {
	needORT(t)
	vocab := vocabPath(t)
	empty := t.TempDir()
	noVocab := t.TempDir()
	b, _ := os.ReadFile("testdata/models/hf/text_model.onnx")
	os.WriteFile(filepath.Join(noVocab, "text_model.onnx"), b, 0o644)
	for _, tc := range []struct {
		dir   string
		opts  *Options
		wants []string
	}{
		{filepath.Join(empty, "nope"), nil, []string{"encode: model folder", "nope"}},
		{empty, nil, []string{"no ONNX model", "text_model.onnx", "visual.onnx", "model.onnx"}},
		{noVocab, nil, []string{"no tokenizer", "bpe_simple_vocab_16e6.txt.gz", "vocab.json"}},
		{"testdata/models/badnames", &Options{Vocab: vocab}, []string{"text_model.onnx", "inputs are", "tokens_x", "bar"}},
	} {
		_, err := Open(tc.dir, tc.opts)
		if err == nil {
			t.Errorf("Open(%s): no error", tc.dir)
			continue
		}
		for _, w := range tc.wants {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Open(%s) error %q does not mention %q", tc.dir, err, w)
			}
		}
	}
	t.Setenv(ModelEnv, "")
	if _, err := Open("", nil); err == nil || !strings.Contains(err.Error(), ModelEnv) {
		t.Errorf("Open(\"\") error = %v, want one naming %s", err, ModelEnv)
	}
	t.Setenv(ModelEnv, "testdata/models/hf")
	m, err := Open("", &Options{Vocab: vocab})
	if err != nil {
		t.Fatalf("Open via %s: %v", ModelEnv, err)
	}
	m.Close()
	if _, err := m.EncodeText(context.Background(), []string{"x"}); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v, want ErrClosed", err)
	}
}

func TestEncodeConcurrent(t *testing.T) {
	m := openTiny(t, "hf-mask")
	want, err := m.EncodeText(context.Background(), []string{"a photo of a cat"})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := m.EncodeText(context.Background(), []string{"x", "a photo of a cat", "y"})
			if err != nil {
				t.Error(err)
				return
			}
			closeTo(t, "concurrent", got[1], want[0])
		}()
	}
	wg.Wait()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := m.EncodeText(ctx, []string{"x"}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
}

func TestLibraryPath(t *testing.T) {
	t.Setenv(LibEnv, "/nonexistent/libonnxruntime.so")
	_, err := LibraryPath("")
	if !errors.Is(err, ErrNoRuntime) || !strings.Contains(err.Error(), InstallScript) {
		t.Errorf("LibraryPath with a bad %s: %v", LibEnv, err)
	}
	if _, err := LibraryPath("/also/missing.so"); err == nil || !strings.Contains(err.Error(), "/also/missing.so") {
		t.Errorf("LibraryPath(flag): %v", err)
	}
	t.Setenv(LibEnv, "")
	p, err := LibraryPath("")
	if err == nil && !strings.HasSuffix(p, DefaultLibPath) {
		t.Errorf("default path %s", p)
	}
	if err != nil && !strings.Contains(err.Error(), InstallScript) {
		t.Errorf("missing default library error %q does not name %s", err, InstallScript)
	}
}
