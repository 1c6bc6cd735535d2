package predict

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/lepton-cli/lepton/internal/checkpoint"
	"github.com/lepton-cli/lepton/internal/classifier"
	"github.com/lepton-cli/lepton/internal/data"
	"github.com/lepton-cli/lepton/internal/imaging"
	"github.com/lepton-cli/lepton/internal/model"
)

// modelOf returns a random model of geometry g and ten classes.
func modelOf(t *testing.T, g data.Geometry, resize string) *classifier.Model {
	t.Helper()
	spec := model.Spec{Input: g.Size(), Hidden: []int{16}, Classes: 10, Activation: "tanh", Init: "glorot"}
	p, err := model.NewParams(spec, 4)
	if err != nil {
		t.Fatal(err)
	}
	stats := data.Stats{Mean: make([]float32, g.Channels), Std: make([]float32, g.Channels)}
	for c := range g.Channels {
		stats.Mean[c], stats.Std[c] = 0.4+0.05*float32(c), 0.3
	}
	m, err := classifier.New(spec, p, g, stats, []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"})
	if err != nil {
		t.Fatal(err)
	}
	m.Data = checkpoint.DataSource{Dataset: "folder", Resize: resize}
	return m
}

// colourful returns a w x h RGB picture with distinct channels.
func colourful(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetRGBA(x, y, color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), uint8((x + y) % 256), 255})
		}
	}
	return img
}

func encode(t *testing.T, path string, img image.Image) image.Image {
	t.Helper()
	var b bytes.Buffer
	var err error
	if filepath.Ext(path) == ".jpg" {
		err = jpeg.Encode(&b, img, &jpeg.Options{Quality: 90})
	} else {
		err = png.Encode(&b, img)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	dec, _, err := image.Decode(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	return dec
}

// TestRunConvertsToModelShape predicts with models of other geometries:
// an RGB JPEG with a 28x28 grey model, a grey PNG with an RGB model, a
// wide image with a model trained on cropped images. The logits must be
// those of the image converted with imaging.Planar (the folder loader's
// conversion) to the model's size, channels and fit.
func TestRunConvertsToModelShape(t *testing.T) {
	dir := t.TempDir()
	grey := image.NewGray(image.Rect(0, 0, 50, 37))
	for i := range grey.Pix {
		grey.Pix[i] = uint8(i * 7)
	}
	tests := []struct {
		name string
		g    data.Geometry
		fit  string
		file string
		img  image.Image
	}{
		{name: "RGB JPEG, 28x28 grey model", g: data.Geometry{Height: 28, Width: 28, Channels: 1}, file: "photo.jpg", img: colourful(64, 48)},
		{name: "grey PNG, 32x32 RGB model", g: data.CIFARGeometry, file: "grey.png", img: grey},
		{name: "wide PNG, 16x24 RGB model trained on crops", g: data.Geometry{Height: 16, Width: 24, Channels: 3}, fit: "crop", file: "wide.png", img: colourful(90, 20)},
		{name: "28x28 grey PNG, 28x28 grey model: exact", g: data.Geometry{Height: 28, Width: 28, Channels: 1}, file: "digit.png", img: grey.SubImage(image.Rect(0, 0, 28, 28))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := modelOf(t, tc.g, tc.fit)
			defer m.Close()
			path := filepath.Join(dir, tc.file)
			dec := encode(t, path, tc.img)
			fit := imaging.Stretch
			if tc.fit != "" {
				fit = imaging.Fit(tc.fit)
			}
			want := imaging.Planar(dec, tc.g.Width, tc.g.Height, tc.g.Channels, fit)
			var wantLogits []float32
			if err := m.Logits(context.Background(), 1, func(_ int, dst []float32) { m.Stats.Normalize(dst, want) },
				func(_ int, l []float32) { wantLogits = append(wantLogits, l...) }); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := Run(context.Background(), Options{Model: m, Paths: []string{path}, Output: "json", Logits: true, Stdout: &out, Stderr: &bytes.Buffer{}}); err != nil {
				t.Fatal(err)
			}
			var r Result
			if err := json.Unmarshal(out.Bytes(), &r); err != nil {
				t.Fatal(err)
			}
			if len(r.Logits) != 10 {
				t.Fatalf("result %+v", r)
			}
			for c := range r.Logits {
				if math.Float32bits(r.Logits[c]) != math.Float32bits(wantLogits[c]) {
					t.Fatalf("logit %d = %v, want %v (the image converted to %s)", c, r.Logits[c], wantLogits[c], tc.g)
				}
			}
			if tc.file == "digit.png" { // a 28x28 grey file passes through unchanged
				sub := tc.img.(*image.Gray)
				for y := range 28 {
					if !bytes.Equal(want[y*28:(y+1)*28], sub.Pix[sub.PixOffset(0, y):sub.PixOffset(0, y)+28]) {
						t.Fatalf("row %d of a 28x28 grey image changed", y)
					}
				}
			}
		})
	}
}
