package imaging

import (
	"bytes"
	"image"
	"image/color"
	"testing"

	"golang.org/x/image/bmp"
)

// TestPlanarMatchesToCIFAR checks that Planar with stretch to 32x32 RGB is
// ToCIFAR, for every decoded image type and for sizes that need resampling
// and sizes that do not: folders and predict share one resampler.
func TestPlanarMatchesToCIFAR(t *testing.T) {
	for _, kind := range []string{"gray", "gray16", "rgba", "nrgba", "rgba64", "paletted", "ycbcr", "cmyk"} {
		sizes := [][2]int{{32, 32}, {45, 20}, {7, 90}}
		if kind == "gray" || kind == "rgba" || kind == "ycbcr" {
			sizes = append(sizes, [2]int{3000, 40}) // box-averaged first
		}
		for _, size := range sizes {
			img := noise(kind, size[0], size[1], 3)
			if got, want := Planar(img, 32, 32, 3, Stretch), ToCIFAR(img); !bytes.Equal(got, want) {
				t.Errorf("%s %dx%d: Planar differs from ToCIFAR", kind, size[0], size[1])
			}
		}
	}
}

// TestPlanarGrey checks the conversions between grey and RGB: grey images
// stay exact in one channel and are replicated in three; RGB pixels become
// Go's color.GrayModel luma, with and without resampling.
func TestPlanarGrey(t *testing.T) {
	g := noise("gray", 28, 28, 1).(*image.Gray)
	if got := Planar(g, 28, 28, 1, Stretch); !bytes.Equal(got, g.Pix) {
		t.Fatal("grey image changed in one channel")
	}
	rgb := Planar(g, 28, 28, 3, Stretch)
	for i, v := range g.Pix {
		if rgb[i] != v || rgb[784+i] != v || rgb[2*784+i] != v {
			t.Fatalf("pixel %d: grey %d became %d %d %d", i, v, rgb[i], rgb[784+i], rgb[2*784+i])
		}
	}
	for _, kind := range []string{"rgba", "nrgba", "ycbcr", "paletted"} {
		img := noise(kind, 9, 5, 2)
		got := Planar(img, 9, 5, 1, Stretch)
		for y := range 5 {
			for x := range 9 {
				r, gr, b, _ := img.At(x, y).RGBA()
				want := color.GrayModel.Convert(color.RGBA{R: uint8(r >> 8), G: uint8(gr >> 8), B: uint8(b >> 8), A: 0xff}).(color.Gray).Y
				if got[y*9+x] != want {
					t.Fatalf("%s (%d, %d): luma %d, want %d", kind, x, y, got[y*9+x], want)
				}
			}
		}
		// Resampled grey is the luma of the resampled RGB.
		small, smallRGB := Planar(img, 4, 3, 1, Stretch), Planar(img, 4, 3, 3, Stretch)
		for i := range small {
			if want := luma(smallRGB[i], smallRGB[12+i], smallRGB[24+i]); small[i] != want {
				t.Fatalf("%s resampled pixel %d: %d, want %d", kind, i, small[i], want)
			}
		}
	}
}

// bands returns a w x h RGBA image of three vertical bands (red, green,
// blue) if wide, or horizontal ones otherwise.
func bands(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	cols := []color.RGBA{{255, 0, 0, 255}, {0, 255, 0, 255}, {0, 0, 255, 255}}
	for y := range h {
		for x := range w {
			k := 3 * y / h
			if w >= h {
				k = 3 * x / w
			}
			m.SetRGBA(x, y, cols[k])
		}
	}
	return m
}

// TestPlanarFit checks crop and pad on images of another aspect ratio:
// crop keeps the centre band only, pad puts black bars around the whole
// image, stretch keeps all three bands and no black.
func TestPlanarFit(t *testing.T) {
	const side = 12
	at := func(p []byte, c, x, y int) byte { return p[c*side*side+y*side+x] }
	for _, wide := range []bool{true, false} {
		img := bands(90, 30)
		if !wide {
			img = bands(30, 90)
		}
		crop := Planar(img, side, side, 3, Crop)
		for y := 2; y < side-2; y++ {
			for x := 2; x < side-2; x++ {
				if at(crop, 0, x, y) > 10 || at(crop, 1, x, y) < 245 || at(crop, 2, x, y) > 10 {
					t.Fatalf("wide=%v crop (%d, %d) = %d %d %d, want the green centre", wide, x, y, at(crop, 0, x, y), at(crop, 1, x, y), at(crop, 2, x, y))
				}
			}
		}
		pad := Planar(img, side, side, 3, Pad)
		// 90x30 fitted into 12x12 is 12x4: rows (or columns) 4..7 hold it.
		for i := range side {
			for _, j := range []int{0, 3, 8, 11} {
				x, y := i, j
				if !wide {
					x, y = j, i
				}
				if at(pad, 0, x, y)|at(pad, 1, x, y)|at(pad, 2, x, y) != 0 {
					t.Fatalf("wide=%v pad (%d, %d) is not black", wide, x, y)
				}
			}
		}
		first, last := [2]int{0, 5}, [2]int{side - 1, 5} // red and blue ends of the bands
		if !wide {
			first, last = [2]int{5, 0}, [2]int{5, side - 1}
		}
		if at(pad, 0, first[0], first[1]) < 200 || at(pad, 2, last[0], last[1]) < 200 {
			t.Fatalf("wide=%v pad lost the outer bands", wide)
		}
		stretch := Planar(img, side, side, 3, Stretch)
		for i := 0; i < len(stretch)/3; i++ {
			if stretch[i]|stretch[side*side+i]|stretch[2*side*side+i] == 0 {
				t.Fatalf("wide=%v stretch pixel %d is black", wide, i)
			}
		}
	}
	if _, err := ParseFit("zoom"); err == nil {
		t.Fatal("ParseFit accepted zoom")
	}
	for _, f := range []Fit{Stretch, Crop, Pad} {
		if got, err := ParseFit(string(f)); err != nil || got != f {
			t.Fatalf("ParseFit(%q) = %q, %v", f, got, err)
		}
	}
}

// TestDecodeBMP checks that BMP files decode (the folder data sets accept
// them, as Keras does).
func TestDecodeBMP(t *testing.T) {
	src := noise("rgba", 6, 4, 9)
	var b bytes.Buffer
	if err := bmp.Encode(&b, src); err != nil {
		t.Fatal(err)
	}
	img, err := Decode(&b, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := Planar(img, 6, 4, 3, Stretch), Planar(src, 6, 4, 3, Stretch); !bytes.Equal(got, want) {
		t.Fatal("BMP round trip changed the pixels")
	}
}

// TestPlanarCropLarge checks crop on an image large enough to be
// box-averaged first: the same as converting the centre cut out by hand.
func TestPlanarCropLarge(t *testing.T) {
	img := noise("rgba", 3000, 1200, 4).(*image.RGBA)
	centre := image.NewRGBA(image.Rect(0, 0, 1200, 1200))
	for y := range 1200 {
		copy(centre.Pix[y*centre.Stride:(y+1)*centre.Stride], img.Pix[y*img.Stride+4*900:])
	}
	if got, want := Planar(img, 24, 24, 3, Crop), Planar(centre, 24, 24, 3, Stretch); !bytes.Equal(got, want) {
		t.Fatal("crop of a large image differs from stretching its centre")
	}
}
