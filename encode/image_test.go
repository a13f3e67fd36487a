package encode

import (
	"encoding/json"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type expectedFile struct {
	Dim   int `json:"dim"`
	Texts []struct {
		Text      string    `json:"text"`
		IDs       []int32   `json:"ids"`
		Embedding []float32 `json:"embedding"`
	} `json:"texts"`
	Images []struct {
		File      string    `json:"file"`
		Mode      string    `json:"mode"`
		Embedding []float32 `json:"embedding"`
	} `json:"images"`
}

func loadExpected(t testing.TB) *expectedFile {
	t.Helper()
	b, err := os.ReadFile("testdata/expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var e expectedFile
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	return &e
}

// maxDiffs lists, per test image, how far CenterCrop may be from Pillow's
// crop (images/*.ref.png, written by gen_models.py with Pillow 9.4): PNG
// and WebP (lossless, and lossy through libwebp's upsampling and colour
// conversion) must match exactly. For JPEG the chroma upsampling and colour
// conversion are libjpeg's, but Go's IDCT rounds differently from libjpeg's
// ISLOW: measured 3 at most, 0.03 on average (under 1% of samples differ).
var maxDiffs = map[string]int{
	"landscape.png": 0, "portrait_alpha.png": 0, "gray.png": 0, "palette.png": 0,
	"lossless.webp": 0, "photo.jpg": 4, "lossy.webp": 0,
}

func TestCenterCropMatchesPillow(t *testing.T) {
	exp := loadExpected(t)
	for _, im := range exp.Images {
		t.Run(im.File, func(t *testing.T) {
			img, err := DecodeImageFile(filepath.Join("testdata/images", im.File))
			if err != nil {
				t.Fatal(err)
			}
			ref, err := DecodeImageFile(filepath.Join("testdata/images", strings.TrimSuffix(im.File, filepath.Ext(im.File))+".ref.png"))
			if err != nil {
				t.Fatal(err)
			}
			got := CenterCrop(img, DefaultImageSize)
			maxd, sum, nd := 0, 0, 0
			for y := 0; y < DefaultImageSize; y++ {
				for x := 0; x < DefaultImageSize; x++ {
					o := got.PixOffset(x, y)
					r, g, b, _ := ref.At(x, y).RGBA()
					for c, want := range []uint32{r >> 8, g >> 8, b >> 8} {
						d := int(got.Pix[o+c]) - int(want)
						if d < 0 {
							d = -d
						}
						sum += d
						if d > 0 {
							nd++
						}
						maxd = max(maxd, d)
					}
				}
			}
			t.Logf("%s (%s, %T): max diff %d, mean %.4f, %d samples differ", im.File, im.Mode, img, maxd, float64(sum)/(3*224*224), nd)
			if maxd > maxDiffs[im.File] {
				t.Errorf("max diff %d > %d", maxd, maxDiffs[im.File])
			}
		})
	}
}

func TestCenterCropSmallAndOdd(t *testing.T) {
	for _, sz := range [][2]int{{1, 1}, {3, 500}, {224, 224}, {225, 224}, {1000, 223}} {
		img := image.NewRGBA(image.Rect(0, 0, sz[0], sz[1]))
		for i := range img.Pix {
			img.Pix[i] = uint8(i * 7)
		}
		c := CenterCrop(img, 224)
		if c.Rect.Dx() != 224 || c.Rect.Dy() != 224 {
			t.Errorf("%v: crop %v", sz, c.Rect)
		}
	}
}
