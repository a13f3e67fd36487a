package encode

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/laiondb/laiondb/internal/par"
)

// ModelEnv is the environment variable naming the default model folder.
const ModelEnv = "LAIONDB_MODEL"

// File names Open looks for in a model folder, in order of preference.
var (
	TextModelFiles = []string{"text_model.onnx", "textual.onnx", "text_encoder.onnx", "text.onnx",
		"textual/model.onnx", "text/model.onnx", "onnx/text_model.onnx"}
	VisionModelFiles = []string{"vision_model.onnx", "visual.onnx", "image_encoder.onnx", "image_model.onnx",
		"vision.onnx", "visual/model.onnx", "vision/model.onnx", "onnx/vision_model.onnx"}
	CombinedModelFiles = []string{"model.onnx", "onnx/model.onnx"}
	TokenizerFiles     = []string{"bpe_simple_vocab_16e6.txt.gz", "tokenizer.json", "vocab.json",
		"textual/tokenizer.json", "textual/vocab.json", "tokenizer/tokenizer.json", "tokenizer/vocab.json"}
)

// Names of inputs and outputs the encoders recognise, in order of
// preference; see doc.go.
var (
	textInputNames   = []string{"input_ids", "text", "input", "tokens", "input_text"}
	maskInputNames   = []string{"attention_mask"}
	imageInputNames  = []string{"pixel_values", "image", "images", "input", "pixel_values_input"}
	textOutputNames  = []string{"text_embeds", "text_features", "text_embedding", "text_embeddings", "embeddings", "embedding", "output", "sentence_embedding"}
	imageOutputNames = []string{"image_embeds", "image_features", "image_embedding", "image_embeddings", "embeddings", "embedding", "output"}
)

// Options configure Open. The zero value (or nil) uses the defaults.
type Options struct {
	// LibPath is the ONNX Runtime shared library; empty means
	// $LAIONDB_ORT_LIB, then DefaultLibPath (see LibraryPath).
	LibPath string
	// Vocab is a tokenizer file (see LoadTokenizer) used instead of the
	// one in the model folder.
	Vocab string
	// Name overrides the model's name.
	Name string
	// BatchSize is the number of texts or images per ONNX Runtime run;
	// 0 means 32. A model whose batch dimension is fixed uses that.
	BatchSize int
	// Threads is ONNX Runtime's intra-op thread count; 0 is its default.
	Threads int
}

// Model is an exported CLIP model: a text tower, an image tower or both,
// with the tokenizer. Its methods are safe for concurrent use.
type Model struct {
	dir, name string
	dim       int
	tok       *Tokenizer
	text      *tower
	image     *tower
	batch     int

	mu     sync.RWMutex
	closed bool
}

// ErrClosed is returned by a Model's methods after Close.
var ErrClosed = errors.New("encode: model closed")

// tower is one ONNX Runtime session and how to feed it.
type tower struct {
	file      string
	sess      *ort.DynamicAdvancedSession
	inputs    []ort.InputOutputInfo // in the session's input order
	idsIn     int                   // index in inputs of the token ids, or -1
	maskIn    int                   // attention mask, or -1
	pixIn     int                   // pixel values, or -1
	output    string
	dim       int
	batch     int // fixed batch size of the model, or 0
	imageSize int
}

// Open loads the CLIP model in folder dir (or $LAIONDB_MODEL when dir is
// empty), initialising ONNX Runtime if needed. See the package
// documentation for the files it looks for.
func Open(dir string, opts *Options) (*Model, error) {
	if opts == nil {
		opts = &Options{}
	}
	if dir == "" {
		dir = os.Getenv(ModelEnv)
	}
	if dir == "" {
		return nil, fmt.Errorf("encode: no model folder: give --model DIR or set %s", ModelEnv)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("encode: model folder: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("encode: model folder %s is not a directory", dir)
	}
	textFile := firstFile(dir, TextModelFiles)
	visionFile := firstFile(dir, VisionModelFiles)
	combined := firstFile(dir, CombinedModelFiles)
	if textFile == "" {
		textFile = combined
	}
	if visionFile == "" {
		visionFile = combined
	}
	if textFile == "" && visionFile == "" {
		return nil, fmt.Errorf("encode: model folder %s has no ONNX model: looked for %s, %s and %s",
			dir, strings.Join(TextModelFiles, ", "), strings.Join(VisionModelFiles, ", "), strings.Join(CombinedModelFiles, ", "))
	}
	if err := InitRuntime(opts.LibPath); err != nil {
		return nil, err
	}
	m := &Model{dir: dir, batch: opts.BatchSize, name: opts.Name}
	if m.batch <= 0 {
		m.batch = 32
	}
	if textFile != "" {
		vocab := opts.Vocab
		if vocab == "" {
			vocab = firstFile(dir, TokenizerFiles)
		}
		if vocab == "" {
			return nil, fmt.Errorf("encode: model folder %s has a text model (%s) but no tokenizer: looked for %s (or pass a vocabulary file)",
				dir, filepath.Base(textFile), strings.Join(TokenizerFiles, ", "))
		}
		if m.tok, err = LoadTokenizer(vocab); err != nil {
			return nil, err
		}
		if m.text, err = openTower(textFile, true, opts); err != nil {
			return nil, err
		}
		m.dim = m.text.dim
	}
	if visionFile != "" {
		if m.image, err = openTower(visionFile, false, opts); err != nil {
			m.Close()
			return nil, err
		}
		if m.dim != 0 && m.image.dim != m.dim {
			m.Close()
			return nil, fmt.Errorf("encode: model folder %s: text embeddings (%s) have %d dimensions, image embeddings (%s) %d",
				dir, filepath.Base(textFile), m.dim, filepath.Base(visionFile), m.image.dim)
		}
		m.dim = m.image.dim
	}
	if m.name == "" {
		m.name = modelName(dir)
	}
	return m, nil
}

func firstFile(dir string, names []string) string {
	for _, n := range names {
		p := filepath.Join(dir, n)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	return ""
}

// modelName reads a name from config.json ("name", "model_name",
// "_name_or_path") or open_clip_config.json, else uses the folder's name.
func modelName(dir string) string {
	for _, f := range []string{"config.json", "open_clip_config.json"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			continue
		}
		var c map[string]any
		if json.Unmarshal(b, &c) != nil {
			continue
		}
		for _, k := range []string{"name", "model_name", "_name_or_path"} {
			if s, ok := c[k].(string); ok && s != "" {
				return s
			}
		}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return filepath.Base(dir)
	}
	return filepath.Base(abs)
}

func describe(infos []ort.InputOutputInfo) string {
	s := make([]string, len(infos))
	for i, in := range infos {
		s[i] = fmt.Sprintf("%s %s%v", in.Name, in.DataType, in.Dimensions)
	}
	return strings.Join(s, ", ")
}

func findNamed(infos []ort.InputOutputInfo, names []string, ok func(ort.InputOutputInfo) bool) int {
	for _, n := range names {
		for i, in := range infos {
			if in.Name == n && ok(in) {
				return i
			}
		}
	}
	return -1
}

// unprojected reports whether an output name is a transformer's hidden
// state rather than a CLIP embedding.
func unprojected(name string) bool {
	return name == "last_hidden_state" || name == "pooler_output"
}

func isInt(in ort.InputOutputInfo) bool {
	return in.OrtValueType == ort.ONNXTypeTensor && len(in.Dimensions) == 2 &&
		(in.DataType == ort.TensorElementDataTypeInt64 || in.DataType == ort.TensorElementDataTypeInt32)
}

func isPixels(in ort.InputOutputInfo) bool {
	return in.OrtValueType == ort.ONNXTypeTensor && len(in.Dimensions) == 4 && in.DataType == ort.TensorElementDataTypeFloat
}

func isEmbedding(in ort.InputOutputInfo) bool {
	return in.OrtValueType == ort.ONNXTypeTensor && len(in.Dimensions) == 2 && in.DataType == ort.TensorElementDataTypeFloat
}

// openTower reads a model's inputs and outputs, picks the ones of the
// text (or image) tower and opens a session over them.
func openTower(path string, text bool, opts *Options) (*tower, error) {
	kind := "image"
	if text {
		kind = "text"
	}
	ins, outs, err := ort.GetInputOutputInfo(path)
	if err != nil {
		return nil, fmt.Errorf("encode: reading %s model %s: %w", kind, path, err)
	}
	t := &tower{file: path, inputs: ins, idsIn: -1, maskIn: -1, pixIn: -1, imageSize: DefaultImageSize}
	t.idsIn = findNamed(ins, textInputNames, isInt)
	t.maskIn = findNamed(ins, maskInputNames, isInt)
	t.pixIn = findNamed(ins, imageInputNames, isPixels)
	// A model with one input of the right kind may name it anything.
	if t.idsIn < 0 && t.pixIn < 0 && len(ins) == 1 {
		if text && isInt(ins[0]) {
			t.idsIn = 0
		} else if !text && isPixels(ins[0]) {
			t.pixIn = 0
		}
	}
	wanted, outNames := t.pixIn, imageOutputNames
	if text {
		wanted, outNames = t.idsIn, textOutputNames
	}
	if wanted < 0 {
		want := "pixel_values (float32 [batch,3,H,W])"
		if text {
			want = "input_ids (int64 or int32 [batch,77])"
		}
		return nil, fmt.Errorf("encode: %s model %s: no %s tower input %s; inputs are: %s",
			kind, path, kind, want, describe(ins))
	}
	for i, in := range ins {
		if i != t.idsIn && i != t.maskIn && i != t.pixIn {
			return nil, fmt.Errorf("encode: %s model %s: unknown input %q; inputs are: %s", kind, path, in.Name, describe(ins))
		}
	}
	if t.idsIn >= 0 {
		if d := ins[t.idsIn].Dimensions[1]; d > 0 && d != ContextLength {
			return nil, fmt.Errorf("encode: %s model %s: input %s takes %d tokens, CLIP's tokenizer gives %d", kind, path, ins[t.idsIn].Name, d, ContextLength)
		}
	}
	if t.pixIn >= 0 {
		d := ins[t.pixIn].Dimensions
		if d[1] > 0 && d[1] != 3 || d[2] > 0 && d[3] > 0 && d[2] != d[3] {
			return nil, fmt.Errorf("encode: %s model %s: input %s has shape %v, want [batch,3,S,S]", kind, path, ins[t.pixIn].Name, d)
		}
		if d[2] > 0 {
			t.imageSize = int(d[2])
		}
	}
	oi := findNamed(outs, outNames, isEmbedding)
	if oi < 0 && len(outs) == 1 && isEmbedding(outs[0]) && !unprojected(outs[0].Name) {
		oi = 0
	}
	if oi < 0 {
		return nil, fmt.Errorf("encode: %s model %s: no %s embedding output (looked for %s, or a single float32 [batch,D] output); outputs are: %s",
			kind, path, kind, strings.Join(outNames, ", "), describe(outs))
	}
	t.output = outs[oi].Name
	t.dim = int(outs[oi].Dimensions[1])
	main := ins[wanted]
	if b := main.Dimensions[0]; b > 0 {
		t.batch = int(b)
	}
	so, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("encode: %s: %w", path, err)
	}
	defer so.Destroy()
	if opts.Threads > 0 {
		if err := so.SetIntraOpNumThreads(opts.Threads); err != nil {
			return nil, fmt.Errorf("encode: %s: %w", path, err)
		}
	}
	names := make([]string, len(ins))
	for i, in := range ins {
		names[i] = in.Name
	}
	t.sess, err = ort.NewDynamicAdvancedSession(path, names, []string{t.output}, so)
	if err != nil {
		return nil, fmt.Errorf("encode: opening %s model %s: %w", kind, path, err)
	}
	if t.dim <= 0 {
		// The output's width is symbolic: run once to learn it.
		if err := t.probe(); err != nil {
			t.sess.Destroy()
			return nil, fmt.Errorf("encode: %s model %s: %w", kind, path, err)
		}
	}
	return t, nil
}

// probe runs the tower on one dummy input to learn its output width.
func (t *tower) probe() error {
	out, err := t.run(nil, nil, nil, 0)
	if err != nil {
		return err
	}
	t.dim = len(out[0])
	return nil
}

// run feeds one batch: token ids (with their lengths) for a text tower,
// or n images of pixel values for an image tower. Inputs the tower does
// not encode (a combined model's other tower) get one dummy row.
func (t *tower) run(ids [][ContextLength]int32, lens []int, pix []float32, n int) ([][]float32, error) {
	if ids == nil && t.idsIn >= 0 {
		var d [ContextLength]int32
		d[0], d[1] = StartOfText, EndOfText
		ids, lens = [][ContextLength]int32{d}, []int{2}
	}
	if pix == nil && t.pixIn >= 0 {
		pix, n = make([]float32, 3*t.imageSize*t.imageSize), 1
	}
	values := make([]ort.Value, len(t.inputs))
	defer func() {
		for _, v := range values {
			if v != nil {
				v.Destroy()
			}
		}
	}()
	for i, in := range t.inputs {
		var v ort.Value
		var err error
		switch i {
		case t.idsIn, t.maskIn:
			v, err = intTensor(in.DataType, ids, lens, i == t.maskIn)
		case t.pixIn:
			v, err = ort.NewTensor(ort.NewShape(int64(n), 3, int64(t.imageSize), int64(t.imageSize)), pix)
		}
		if err != nil {
			return nil, err
		}
		values[i] = v
	}
	outs := []ort.Value{nil}
	if err := t.sess.Run(values, outs); err != nil {
		return nil, err
	}
	defer outs[0].Destroy()
	ft, ok := outs[0].(*ort.Tensor[float32])
	if !ok {
		return nil, fmt.Errorf("output %s is %T, want float32", t.output, outs[0])
	}
	shape := ft.GetShape()
	if len(shape) != 2 {
		return nil, fmt.Errorf("output %s has shape %v, want [batch,D]", t.output, shape)
	}
	data := ft.GetData()
	rows, d := int(shape[0]), int(shape[1])
	res := make([][]float32, rows)
	for r := range res {
		res[r] = slices.Clone(data[r*d : (r+1)*d])
	}
	return res, nil
}

func intTensor(dt ort.TensorElementDataType, ids [][ContextLength]int32, lens []int, mask bool) (ort.Value, error) {
	shape := ort.NewShape(int64(len(ids)), ContextLength)
	val := func(r, j int) int32 {
		if mask {
			if j < lens[r] {
				return 1
			}
			return 0
		}
		return ids[r][j]
	}
	if dt == ort.TensorElementDataTypeInt32 {
		d := make([]int32, 0, len(ids)*ContextLength)
		for r := range ids {
			for j := 0; j < ContextLength; j++ {
				d = append(d, val(r, j))
			}
		}
		return ort.NewTensor(shape, d)
	}
	d := make([]int64, 0, len(ids)*ContextLength)
	for r := range ids {
		for j := 0; j < ContextLength; j++ {
			d = append(d, int64(val(r, j)))
		}
	}
	return ort.NewTensor(shape, d)
}

// Name returns the model's name: Options.Name, a name from the folder's
// config.json, or the folder's base name.
func (m *Model) Name() string { return m.name }

// Dim returns the embedding dimension.
func (m *Model) Dim() int { return m.dim }

// Dir returns the model folder.
func (m *Model) Dir() string { return m.dir }

// Tokenizer returns the model's tokenizer, or nil if it has no text tower.
func (m *Model) Tokenizer() *Tokenizer { return m.tok }

// HasText reports whether the model has a text tower.
func (m *Model) HasText() bool { return m.text != nil }

// HasImage reports whether the model has an image tower.
func (m *Model) HasImage() bool { return m.image != nil }

// ImageSize returns the side of the image tower's input (224 unless the
// model fixes another).
func (m *Model) ImageSize() int {
	if m.image == nil {
		return DefaultImageSize
	}
	return m.image.imageSize
}

// Files returns the ONNX files of the text and image towers ("" when
// absent).
func (m *Model) Files() (text, image string) {
	if m.text != nil {
		text = m.text.file
	}
	if m.image != nil {
		image = m.image.file
	}
	return text, image
}

func (m *Model) batchSize(t *tower) int {
	if t.batch > 0 {
		return t.batch
	}
	return m.batch
}

// EncodeText returns the L2-normalised CLIP embeddings of texts.
func (m *Model) EncodeText(ctx context.Context, texts []string) ([][]float32, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, ErrClosed
	}
	if m.text == nil {
		return nil, fmt.Errorf("encode: model %s has no text tower", m.dir)
	}
	out := make([][]float32, 0, len(texts))
	bs := m.batchSize(m.text)
	for start := 0; start < len(texts); start += bs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		end := min(start+bs, len(texts))
		ids := make([][ContextLength]int32, end-start)
		lens := make([]int, end-start)
		for i, s := range texts[start:end] {
			ids[i], lens[i] = m.tok.Tokenize(s)
		}
		vs, err := m.text.run(ids, lens, nil, 0)
		if err != nil {
			return nil, fmt.Errorf("encode: text model %s: %w", m.text.file, err)
		}
		for i, v := range vs {
			if err := normalize(v); err != nil {
				return nil, fmt.Errorf("encode: text model %s: text %q: %w", m.text.file, texts[start+i], err)
			}
		}
		out = append(out, vs...)
	}
	return out, nil
}

// EncodeImage returns the L2-normalised CLIP embeddings of image files
// (JPEG, PNG, WebP or GIF), preprocessed as CLIP does (see PixelValues).
func (m *Model) EncodeImage(ctx context.Context, paths []string) ([][]float32, error) {
	return m.encodeImages(ctx, len(paths), func(i int) (image.Image, error) {
		return DecodeImageFile(paths[i])
	})
}

// EncodeImages is EncodeImage for decoded images.
func (m *Model) EncodeImages(ctx context.Context, imgs []image.Image) ([][]float32, error) {
	return m.encodeImages(ctx, len(imgs), func(i int) (image.Image, error) { return imgs[i], nil })
}

func (m *Model) encodeImages(ctx context.Context, n int, get func(int) (image.Image, error)) ([][]float32, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, ErrClosed
	}
	if m.image == nil {
		return nil, fmt.Errorf("encode: model %s has no image tower", m.dir)
	}
	size := m.image.imageSize
	plane := 3 * size * size
	out := make([][]float32, 0, n)
	bs := m.batchSize(m.image)
	for start := 0; start < n; start += bs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		end := min(start+bs, n)
		pix := make([]float32, (end-start)*plane)
		// Decode and preprocess the batch in parallel. Every image is
		// tried, so the error names each one that fails; ctx is checked
		// between batches.
		errs := make([]error, end-start)
		par.Chunks(context.Background(), end-start, 1, func(_, j, _ int) {
			img, err := get(start + j)
			if err != nil {
				errs[j] = err
				return
			}
			writePixelValues(pix[j*plane:(j+1)*plane], CenterCrop(img, size))
		})
		if err := errors.Join(errs...); err != nil {
			return nil, err
		}
		vs, err := m.image.run(nil, nil, pix, end-start)
		if err != nil {
			return nil, fmt.Errorf("encode: image model %s: %w", m.image.file, err)
		}
		for _, v := range vs {
			if err := normalize(v); err != nil {
				return nil, fmt.Errorf("encode: image model %s: %w", m.image.file, err)
			}
		}
		out = append(out, vs...)
	}
	return out, nil
}

// normalize scales v to unit L2 norm.
func normalize(v []float32) error {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	if s == 0 || math.IsNaN(s) || math.IsInf(s, 0) {
		return fmt.Errorf("embedding has norm %v", math.Sqrt(s))
	}
	inv := 1 / math.Sqrt(s)
	for i, x := range v {
		v[i] = float32(float64(x) * inv)
	}
	return nil
}

// Cosine returns the cosine similarity of two L2-normalised embeddings
// (their dot product).
func Cosine(a, b []float32) float32 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return float32(s)
}

// Close releases the ONNX Runtime sessions. It waits for running encodes.
func (m *Model) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	var errs []error
	for _, t := range []*tower{m.text, m.image} {
		if t != nil && t.sess != nil {
			errs = append(errs, t.sess.Destroy())
		}
	}
	return errors.Join(errs...)
}
