package encode

import "image"

// webpYCbCr marks a lossy WebP decoded by golang.org/x/image/webp, whose
// YUV is converted as libwebp converts it (not as JPEG's YCbCr).
type webpYCbCr struct{ *image.YCbCr }

// webpToRGB converts lossy WebP YUV 4:2:0 to RGB as libwebp does for
// Pillow: its "fancy" bilinear chroma upsampling (UpsampleRgbLinePair,
// packed-lane arithmetic included) and its 14-bit BT.601 conversion.
func webpToRGB(m *image.YCbCr) *rgbImage {
	if m.SubsampleRatio != image.YCbCrSubsampleRatio420 {
		return ycbcrToRGB(m)
	}
	b := m.Bounds()
	w, h := b.Dx(), b.Dy()
	ch := (h + 1) / 2
	r := &rgbImage{w: w, h: h, n: 3, pix: make([]uint8, w*h*3)}
	uv := func(cx, cy int) uint32 {
		cy = max(0, min(cy, ch-1))
		o := m.COffset(b.Min.X, b.Min.Y) + cy*m.CStride + cx
		return uint32(m.Cb[o]) | uint32(m.Cr[o])<<16
	}
	for y := 0; y < h; y++ {
		// Row y pairs chroma rows top and cur; odd rows (and row 0) are
		// the pair's upper row, nearer to top.
		var topRow, curRow int
		upper := true
		if y == 0 {
			topRow, curRow = 0, 0
		} else {
			k := (y + 1) / 2
			topRow, curRow = k-1, k
			upper = y%2 == 1
		}
		ys := m.Y[m.YOffset(b.Min.X, b.Min.Y+y):]
		out := r.pix[y*w*3:]
		put := func(x int, p uint32) {
			u, v := int(p&0xff), int(p>>16)
			yy := int(ys[x])
			out[x*3] = vp8Clip8(mulHi(yy, 19077) + mulHi(v, 26149) - 14234)
			out[x*3+1] = vp8Clip8(mulHi(yy, 19077) - mulHi(u, 6419) - mulHi(v, 13320) + 8708)
			out[x*3+2] = vp8Clip8(mulHi(yy, 19077) + mulHi(u, 33050) - 17685)
		}
		tl, l := uv(0, topRow), uv(0, curRow)
		if upper {
			put(0, (3*tl+l+0x00020002)>>2)
		} else {
			put(0, (3*l+tl+0x00020002)>>2)
		}
		last := (w - 1) >> 1
		for x := 1; x <= last; x++ {
			t, u := uv(x, topRow), uv(x, curRow)
			avg := tl + t + l + u + 0x00080008
			d12 := (avg + 2*(t+l)) >> 3
			d03 := (avg + 2*(tl+u)) >> 3
			if upper {
				put(2*x-1, (d12+tl)>>1)
				put(2*x, (d03+t)>>1)
			} else {
				put(2*x-1, (d03+l)>>1)
				put(2*x, (d12+u)>>1)
			}
			tl, l = t, u
		}
		if w&1 == 0 {
			if upper {
				put(w-1, (3*tl+l+0x00020002)>>2)
			} else {
				put(w-1, (3*l+tl+0x00020002)>>2)
			}
		}
	}
	return r
}

func mulHi(v, coeff int) int { return (v * coeff) >> 8 }

func vp8Clip8(v int) uint8 {
	const mask = (256 << 6) - 1
	if v&^mask == 0 {
		return uint8(v >> 6)
	}
	if v < 0 {
		return 0
	}
	return 255
}
