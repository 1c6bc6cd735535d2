package data

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lepton-cli/lepton/internal/realdata"
)

// TestRealFolder writes real Fashion-MNIST images as a folder: grey PNG
// files of their own size (which must come back exactly), RGB JPEG files
// twice as large in a nested sub-folder (which must come back close), and
// broken files; then reads it at 28x28 grey with train/ and test/.
func TestRealFolder(t *testing.T) {
	src, err := Open(Spec{Kind: KindFashionMNIST, Dir: realdata.Beside(t, "fashion-mnist")})
	if err != nil {
		t.Fatal(err)
	}
	idxTest, err := src.Split(context.Background(), SplitTest)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	names := []string{"Ankle boot", "Bag", "Coat", "Dress", "Pullover", "Sandal", "Shirt", "Sneaker", "T-shirt_top", "Trouser"}
	folderClass := func(l uint8) string { return strings.ReplaceAll(idxTest.Classes[l], "/", "_") }
	want := map[string][]byte{} // PNG path -> exact pixels
	approx := map[string][]byte{}
	for i := range 240 {
		split := SplitTrain
		if i%4 == 3 {
			split = SplitTest
		}
		img := ToImage(idxTest.Image(i), grey28)
		class := folderClass(idxTest.Labels[i])
		if i%2 == 0 {
			p := filepath.Join(dir, split, class, "png", fmt.Sprintf("i%03d.png", i))
			encode(t, p, img)
			want[p] = idxTest.Image(i)
			continue
		}
		big := image.NewRGBA(image.Rect(0, 0, 56, 56))
		for y := range 56 {
			for x := range 56 {
				v := img.(*image.Gray).GrayAt(x/2, y/2).Y
				big.SetRGBA(x, y, color.RGBA{v, v, v, 255})
			}
		}
		p := filepath.Join(dir, split, class, "nested", "jpeg", fmt.Sprintf("j%03d.jpg", i))
		encode(t, p, big)
		approx[p] = idxTest.Image(i)
	}
	for _, split := range []string{SplitTrain, SplitTest} {
		for _, c := range names {
			writeFile(t, filepath.Join(dir, split, c, "broken.png"), []byte{0x89, 'P', 'N', 'G'})
		}
	}
	writeFile(t, filepath.Join(dir, SplitTrain, "Bag", "zero.jpg"), nil)
	writeFile(t, filepath.Join(dir, SplitTrain, "Bag", "notes.txt"), []byte("a text file is ignored"))
	var log bytes.Buffer
	f, err := Open(Spec{Kind: KindFolder, Dir: dir, Height: 28, Width: 28, Channels: 1, Log: &log, CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(f.Classes(), names) {
		t.Fatalf("classes %q", f.Classes())
	}
	if _, err := Load(context.Background(), f, 0.1, 1); err != nil {
		t.Fatal(err)
	}
	if n := len(SkippedOf(f)); n != 21 {
		t.Fatalf("%d skipped files, want 21:\n%s", n, log.String())
	}
	ff := f.(*folder)
	var sum, count float64
	for _, file := range ff.files {
		if file.Error != "" {
			continue
		}
		p := filepath.Join(dir, filepath.FromSlash(file.Rel))
		got := imageOf(t, ff, file.Rel)
		if w, ok := want[p]; ok && !bytes.Equal(got, w) {
			t.Fatalf("%s: PNG pixels changed", p)
		}
		if w, ok := approx[p]; ok {
			for j := range w {
				sum += abs(float64(got[j]) - float64(w[j]))
			}
			count += float64(len(w))
		}
	}
	if mae := sum / count; count == 0 || mae > 6 {
		t.Fatalf("JPEG images differ by %.2f per pixel on average (%v values)", mae, count)
	}
}

// imageOf returns the decoded image of the folder file rel.
func imageOf(t *testing.T, f *folder, rel string) []byte {
	t.Helper()
	k := 0
	for _, file := range f.files {
		if file.Error != "" {
			continue
		}
		if file.Rel == rel {
			return f.all.Image(k)
		}
		k++
	}
	t.Fatalf("%s not decoded", rel)
	return nil
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
