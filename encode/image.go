package encode

import (
	"bufio"
	"fmt"
	"image"
	"image/color"
	_ "image/gif" // registers GIF decoding
	_ "image/jpeg"
	_ "image/png"
	"math"
	"os"

	_ "golang.org/x/image/webp" // registers WebP decoding
)

// CLIP's image normalisation (OpenAI CLIP, open_clip and Hugging Face's
// CLIPImageProcessor all use these).
var (
	ClipMean = [3]float32{0.48145466, 0.4578275, 0.40821073}
	ClipStd  = [3]float32{0.26862954, 0.26130258, 0.27577711}
)

// DefaultImageSize is the input side of ViT-B/32, ViT-B/16 and ViT-L/14.
const DefaultImageSize = 224

// MaxImagePixels is the largest image DecodeImageFile decodes: Pillow's
// limit, above which it raises DecompressionBombError (twice its
// MAX_IMAGE_PIXELS), so that a small file cannot ask for gigabytes.
const MaxImagePixels = 2 * 89478485

// DecodeImageFile decodes a JPEG, PNG, WebP or GIF file (the first frame).
// An image of more than MaxImagePixels pixels is an error.
func DecodeImageFile(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	defer f.Close()
	cfg, _, err := image.DecodeConfig(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("encode: decoding image %s: %w", path, err)
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > MaxImagePixels {
		return nil, fmt.Errorf("encode: image %s is %dx%d, %d pixels: more than %d (a decompression bomb?)", path, cfg.Width, cfg.Height, px, MaxImagePixels)
	}
	if _, err := f.Seek(0, 0); err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	img, format, err := image.Decode(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("encode: decoding image %s: %w", path, err)
	}
	if y, ok := img.(*image.YCbCr); ok && format == "webp" {
		return webpYCbCr{y}, nil
	}
	return img, nil
}

// rgbImage is an 8-bit image with n interleaved channels (3: RGB, 4: RGBA
// with alpha premultiplied as Pillow's "RGBa" mode).
type rgbImage struct {
	w, h, n int
	pix     []uint8
}

// CenterCrop is CLIP's geometric preprocessing as torchvision runs it on a
// PIL image: Resize(size, BICUBIC) — the short side to size, the long side
// to int(size*long/short) — with Pillow's antialiased bicubic resampling,
// then CenterCrop(size) with torchvision's rounding, then convert("RGB").
// It returns size×size RGB pixels.
//
// Pillow's own quirks are reproduced: palette images are resized with
// nearest neighbour (Pillow ignores the filter for mode "P"), images with
// transparency are resized premultiplied and un-premultiplied after, and
// transparent pixels end up black when alpha is dropped.
func CenterCrop(img image.Image, size int) *image.RGBA {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	short, long := w, h
	if w > h {
		short, long = h, w
	}
	newShort, newLong := size, int(float64(size)*float64(long)/float64(short))
	newW, newH := newShort, newLong
	if w > h {
		newW, newH = newLong, newShort
	}
	src, paletted := toRGB(img)
	var r *rgbImage
	if paletted {
		r = resizeNearest(src, newW, newH)
	} else {
		r = resizeBicubic(src, newW, newH)
	}
	if r.n == 4 {
		unpremultiply(r)
	}
	left := int(math.RoundToEven(float64(newW-size) / 2))
	top := int(math.RoundToEven(float64(newH-size) / 2))
	out := image.NewRGBA(image.Rect(0, 0, size, size))
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			sx, sy := x+left, y+top
			o := out.PixOffset(x, y)
			if sx < 0 || sy < 0 || sx >= r.w || sy >= r.h {
				out.Pix[o+3] = 255 // torchvision pads with black
				continue
			}
			i := (sy*r.w + sx) * r.n
			out.Pix[o], out.Pix[o+1], out.Pix[o+2], out.Pix[o+3] = r.pix[i], r.pix[i+1], r.pix[i+2], 255
		}
	}
	return out
}

// PixelValues returns the CLIP pixel tensor of img, [3][size][size] in
// channel-major order: CenterCrop, then /255 and (x-mean)/std in float32 as
// torchvision's ToTensor and Normalize compute them.
func PixelValues(img image.Image, size int) []float32 {
	out := make([]float32, 3*size*size)
	writePixelValues(out, CenterCrop(img, size))
	return out
}

func writePixelValues(dst []float32, crop *image.RGBA) {
	size := crop.Rect.Dx()
	plane := size * size
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			o := crop.PixOffset(x, y)
			for c := 0; c < 3; c++ {
				v := float32(crop.Pix[o+c]) / 255
				dst[c*plane+y*size+x] = (v - ClipMean[c]) / ClipStd[c]
			}
		}
	}
}

// toRGB converts img to 8-bit RGB, or premultiplied RGBA when some pixel
// is not opaque, and reports whether it is a palette image.
func toRGB(img image.Image) (*rgbImage, bool) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	switch m := img.(type) {
	case *image.Paletted:
		pal := make([][4]uint8, len(m.Palette))
		for i, c := range m.Palette {
			n := color.NRGBAModel.Convert(c).(color.NRGBA)
			pal[i] = [4]uint8{n.R, n.G, n.B, n.A}
		}
		// Pillow converts "P" to "RGB" by the palette, ignoring transparency.
		r := &rgbImage{w: w, h: h, n: 3, pix: make([]uint8, w*h*3)}
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride : y*m.Stride+w]
			for x, ci := range row {
				var p [4]uint8
				if int(ci) < len(pal) {
					p = pal[ci]
				}
				copy(r.pix[(y*w+x)*3:], p[:3])
			}
		}
		return r, true
	case *image.YCbCr:
		return ycbcrToRGB(m), false
	case webpYCbCr:
		return webpToRGB(m.YCbCr), false
	case *image.Gray:
		r := &rgbImage{w: w, h: h, n: 3, pix: make([]uint8, w*h*3)}
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				v := m.Pix[y*m.Stride+x]
				i := (y*w + x) * 3
				r.pix[i], r.pix[i+1], r.pix[i+2] = v, v, v
			}
		}
		return r, false
	}
	// Everything else through straight (non-premultiplied) RGBA, 16-bit
	// samples reduced to their high byte as Pillow reads 16-bit PNGs.
	nr := &rgbImage{w: w, h: h, n: 4, pix: make([]uint8, w*h*4)}
	opaque := true
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var c color.NRGBA
			switch m := img.(type) {
			case *image.NRGBA:
				i := m.PixOffset(x+b.Min.X, y+b.Min.Y)
				c = color.NRGBA{m.Pix[i], m.Pix[i+1], m.Pix[i+2], m.Pix[i+3]}
			default:
				c64 := color.NRGBA64Model.Convert(img.At(x+b.Min.X, y+b.Min.Y)).(color.NRGBA64)
				c = color.NRGBA{uint8(c64.R >> 8), uint8(c64.G >> 8), uint8(c64.B >> 8), uint8(c64.A >> 8)}
			}
			i := (y*w + x) * 4
			nr.pix[i], nr.pix[i+1], nr.pix[i+2], nr.pix[i+3] = c.R, c.G, c.B, c.A
			if c.A != 255 {
				opaque = false
			}
		}
	}
	if opaque {
		r := &rgbImage{w: w, h: h, n: 3, pix: make([]uint8, w*h*3)}
		for i := 0; i < w*h; i++ {
			copy(r.pix[i*3:i*3+3], nr.pix[i*4:i*4+3])
		}
		return r, false
	}
	// Pillow resizes "RGBA" as "RGBa": premultiply with MULDIV255.
	for i := 0; i < len(nr.pix); i += 4 {
		a := uint32(nr.pix[i+3])
		for c := 0; c < 3; c++ {
			t := uint32(nr.pix[i+c])*a + 128
			nr.pix[i+c] = uint8(((t >> 8) + t) >> 8)
		}
	}
	return nr, false
}

// unpremultiply is Pillow's "RGBa" → "RGBA" conversion.
func unpremultiply(r *rgbImage) {
	for i := 0; i < len(r.pix); i += 4 {
		a := int(r.pix[i+3])
		if a == 255 || a == 0 {
			continue
		}
		for c := 0; c < 3; c++ {
			v := 255 * int(r.pix[i+c]) / a
			if v > 255 {
				v = 255
			}
			r.pix[i+c] = uint8(v)
		}
	}
}

// Pillow's fixed-point precision for 8-bit resampling.
const precisionBits = 32 - 8 - 2

func bicubicFilter(x float64) float64 {
	const a = -0.5
	if x < 0 {
		x = -x
	}
	if x < 1 {
		return ((a+2)*x-(a+3))*x*x + 1
	}
	if x < 2 {
		return (((x-5)*x+8)*x - 4) * a
	}
	return 0
}

// precomputeCoeffs is Pillow's precompute_coeffs for the bicubic filter
// (support 2, widened by the downscale factor) followed by
// normalize_coeffs_8bpc. It returns per output pixel the first input pixel
// and the count, and ksize fixed-point weights each.
func precomputeCoeffs(inSize, outSize int) (bounds []int, kk []int32, ksize int) {
	scale := float64(float32(inSize)) / float64(outSize)
	filterscale := scale
	if filterscale < 1 {
		filterscale = 1
	}
	support := 2.0 * filterscale
	ksize = int(math.Ceil(support))*2 + 1
	bounds = make([]int, outSize*2)
	kk = make([]int32, outSize*ksize)
	k := make([]float64, ksize)
	for xx := 0; xx < outSize; xx++ {
		center := (float64(xx) + 0.5) * scale
		ss := 1.0 / filterscale
		xmin := int(center - support + 0.5)
		if xmin < 0 {
			xmin = 0
		}
		xmax := int(center + support + 0.5)
		if xmax > inSize {
			xmax = inSize
		}
		xmax -= xmin
		ww := 0.0
		for x := 0; x < xmax; x++ {
			w := bicubicFilter((float64(x+xmin) - center + 0.5) * ss)
			k[x] = w
			ww += w
		}
		for x := 0; x < xmax; x++ {
			if ww != 0 {
				k[x] /= ww
			}
		}
		for x := 0; x < ksize; x++ {
			v := 0.0
			if x < xmax {
				v = k[x]
			}
			if v < 0 {
				kk[xx*ksize+x] = int32(-0.5 + v*(1<<precisionBits))
			} else {
				kk[xx*ksize+x] = int32(0.5 + v*(1<<precisionBits))
			}
		}
		bounds[xx*2], bounds[xx*2+1] = xmin, xmax
	}
	return bounds, kk, ksize
}

func clip8(v int32) uint8 {
	if v >= 1<<precisionBits<<8 {
		return 255
	}
	if v <= 0 {
		return 0
	}
	return uint8(v >> precisionBits)
}

// resizeBicubic is Pillow's ImagingResample with BICUBIC for 8-bit images:
// a horizontal pass then a vertical pass, each skipped when that side keeps
// its size, with the intermediate image rounded to 8 bits.
func resizeBicubic(src *rgbImage, w, h int) *rgbImage {
	n := src.n
	cur := src
	if w != src.w {
		bounds, kk, ksize := precomputeCoeffs(src.w, w)
		out := &rgbImage{w: w, h: cur.h, n: n, pix: make([]uint8, w*cur.h*n)}
		for y := 0; y < cur.h; y++ {
			in := cur.pix[y*cur.w*n : (y+1)*cur.w*n]
			for xx := 0; xx < w; xx++ {
				xmin, xmax := bounds[xx*2], bounds[xx*2+1]
				k := kk[xx*ksize : xx*ksize+ksize]
				for c := 0; c < n; c++ {
					ss := int32(1 << (precisionBits - 1))
					for x := 0; x < xmax; x++ {
						ss += int32(in[(x+xmin)*n+c]) * k[x]
					}
					out.pix[(y*w+xx)*n+c] = clip8(ss)
				}
			}
		}
		cur = out
	}
	if h != src.h {
		bounds, kk, ksize := precomputeCoeffs(src.h, h)
		out := &rgbImage{w: cur.w, h: h, n: n, pix: make([]uint8, cur.w*h*n)}
		rowLen := cur.w * n
		for yy := 0; yy < h; yy++ {
			ymin, ymax := bounds[yy*2], bounds[yy*2+1]
			k := kk[yy*ksize : yy*ksize+ksize]
			for i := 0; i < rowLen; i++ {
				ss := int32(1 << (precisionBits - 1))
				for y := 0; y < ymax; y++ {
					ss += int32(cur.pix[(y+ymin)*rowLen+i]) * k[y]
				}
				out.pix[yy*rowLen+i] = clip8(ss)
			}
		}
		cur = out
	}
	if cur == src {
		cp := *src
		cp.pix = append([]uint8(nil), src.pix...)
		cur = &cp
	}
	return cur
}

// resizeNearest is Pillow's NEAREST resize (an affine scale sampling at
// pixel centres, with the coordinate accumulated as Pillow does).
func resizeNearest(src *rgbImage, w, h int) *rgbImage {
	n := src.n
	out := &rgbImage{w: w, h: h, n: n, pix: make([]uint8, w*h*n)}
	ax := float64(src.w) / float64(w)
	ay := float64(src.h) / float64(h)
	xin := make([]int, w)
	xo := ax * 0.5
	for x := 0; x < w; x++ {
		xin[x] = coord(xo)
		xo += ax
	}
	yo := ay * 0.5
	for y := 0; y < h; y++ {
		yi := coord(yo)
		yo += ay
		if yi < 0 || yi >= src.h {
			continue
		}
		for x := 0; x < w; x++ {
			if xin[x] < 0 || xin[x] >= src.w {
				continue
			}
			copy(out.pix[(y*w+x)*n:(y*w+x+1)*n], src.pix[(yi*src.w+xin[x])*n:])
		}
	}
	return out
}

func coord(v float64) int {
	if v < 0 {
		return -1
	}
	return int(v)
}
