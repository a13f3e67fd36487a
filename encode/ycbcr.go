package encode

import (
	"image"
	"image/color"
)

var ycc = color.YCbCrToRGB

// ycbcrToRGB converts a decoded JPEG (or lossy WebP) to RGB with Go's
// color conversion.
func ycbcrToRGB(m *image.YCbCr) *rgbImage {
	b := m.Bounds()
	w, h := b.Dx(), b.Dy()
	r := &rgbImage{w: w, h: h, n: 3, pix: make([]uint8, w*h*3)}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := m.YCbCrAt(x+b.Min.X, y+b.Min.Y)
			i := (y*w + x) * 3
			r.pix[i], r.pix[i+1], r.pix[i+2] = colorYCbCrToRGB(c.Y, c.Cb, c.Cr)
		}
	}
	return r
}

func colorYCbCrToRGB(y, cb, cr uint8) (uint8, uint8, uint8) {
	return ycc(y, cb, cr)
}
