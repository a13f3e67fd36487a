package encode

import (
	"image"
	"image/color"
)

// ycbcrToRGB converts a decoded JPEG to RGB as libjpeg(-turbo) does for
// Pillow: "fancy" (triangular) chroma upsampling for 4:2:0 and 4:2:2, and
// its fixed-point YCbCr → RGB tables. Go's IDCT still differs from
// libjpeg's by rounding, so pixels may differ by a level or two. Other
// subsampling ratios use Go's conversion.
func ycbcrToRGB(m *image.YCbCr) *rgbImage {
	b := m.Bounds()
	w, h := b.Dx(), b.Dy()
	r := &rgbImage{w: w, h: h, n: 3, pix: make([]uint8, w*h*3)}
	var cb, cr []uint8 // full-resolution chroma
	switch m.SubsampleRatio {
	case image.YCbCrSubsampleRatio444:
	case image.YCbCrSubsampleRatio420:
		cb, cr = upsampleH2V2(m, m.Cb, w, h), upsampleH2V2(m, m.Cr, w, h)
	case image.YCbCrSubsampleRatio422:
		cb, cr = upsampleH2V1(m, m.Cb, w, h), upsampleH2V1(m, m.Cr, w, h)
	default:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				c := m.YCbCrAt(x+b.Min.X, y+b.Min.Y)
				i := (y*w + x) * 3
				r.pix[i], r.pix[i+1], r.pix[i+2] = color.YCbCrToRGB(c.Y, c.Cb, c.Cr)
			}
		}
		return r
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			yy := int(m.Y[m.YOffset(x+b.Min.X, y+b.Min.Y)])
			var u, v uint8
			if cb == nil {
				o := m.COffset(x+b.Min.X, y+b.Min.Y)
				u, v = m.Cb[o], m.Cr[o]
			} else {
				u, v = cb[y*w+x], cr[y*w+x]
			}
			i := (y*w + x) * 3
			r.pix[i] = rangeLimit(yy + crR[v])
			r.pix[i+1] = rangeLimit(yy + (cbG[u]+crG[v])>>16)
			r.pix[i+2] = rangeLimit(yy + cbB[u])
		}
	}
	return r
}

// libjpeg's build_ycc_rgb_table (SCALEBITS 16).
var crR, cbB, crG, cbG [256]int

func init() {
	fix := func(x float64) int { return int(x*(1<<16) + 0.5) }
	for i := 0; i < 256; i++ {
		x := i - 128
		crR[i] = (fix(1.40200)*x + 1<<15) >> 16
		cbB[i] = (fix(1.77200)*x + 1<<15) >> 16
		crG[i] = -fix(0.71414) * x
		cbG[i] = -fix(0.34414)*x + 1<<15
	}
}

func rangeLimit(v int) uint8 {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// chromaRow returns row cy (clamped, as libjpeg replicates edge rows) of a
// subsampled plane, cw samples long.
func chromaRow(m *image.YCbCr, plane []uint8, cy, cw, ch int) []uint8 {
	cy = max(0, min(cy, ch-1))
	b := m.Bounds()
	o := m.COffset(b.Min.X, b.Min.Y) + cy*m.CStride
	return plane[o : o+cw]
}

// upsampleH2V2 is libjpeg's h2v2_fancy_upsample.
func upsampleH2V2(m *image.YCbCr, plane []uint8, w, h int) []uint8 {
	cw, ch := (w+1)/2, (h+1)/2
	out := make([]uint8, w*h)
	row := make([]uint8, 2*cw)
	for y := 0; y < h; y++ {
		cy := y / 2
		in0 := chromaRow(m, plane, cy, cw, ch)
		var in1 []uint8
		if y%2 == 0 {
			in1 = chromaRow(m, plane, cy-1, cw, ch)
		} else {
			in1 = chromaRow(m, plane, cy+1, cw, ch)
		}
		if cw == 1 {
			s := int(in0[0])*3 + int(in1[0])
			row[0], row[1] = uint8((s*4+8)>>4), uint8((s*4+7)>>4)
		} else {
			this := int(in0[0])*3 + int(in1[0])
			next := int(in0[1])*3 + int(in1[1])
			row[0] = uint8((this*4 + 8) >> 4)
			row[1] = uint8((this*3 + next + 7) >> 4)
			last := this
			this = next
			for c := 1; c < cw-1; c++ {
				next = int(in0[c+1])*3 + int(in1[c+1])
				row[2*c] = uint8((this*3 + last + 8) >> 4)
				row[2*c+1] = uint8((this*3 + next + 7) >> 4)
				last, this = this, next
			}
			row[2*cw-2] = uint8((this*3 + last + 8) >> 4)
			row[2*cw-1] = uint8((this*4 + 7) >> 4)
		}
		copy(out[y*w:(y+1)*w], row)
	}
	return out
}

// upsampleH2V1 is libjpeg's h2v1_fancy_upsample.
func upsampleH2V1(m *image.YCbCr, plane []uint8, w, h int) []uint8 {
	cw := (w + 1) / 2
	out := make([]uint8, w*h)
	row := make([]uint8, 2*cw)
	for y := 0; y < h; y++ {
		in := chromaRow(m, plane, y, cw, h)
		if cw == 1 {
			row[0], row[1] = in[0], in[0]
		} else {
			row[0] = in[0]
			row[1] = uint8((int(in[0])*3 + int(in[1]) + 2) >> 2)
			for c := 1; c < cw-1; c++ {
				v := int(in[c]) * 3
				row[2*c] = uint8((v + int(in[c-1]) + 1) >> 2)
				row[2*c+1] = uint8((v + int(in[c+1]) + 2) >> 2)
			}
			row[2*cw-2] = uint8((int(in[cw-1])*3 + int(in[cw-2]) + 1) >> 2)
			row[2*cw-1] = in[cw-1]
		}
		copy(out[y*w:(y+1)*w], row)
	}
	return out
}
