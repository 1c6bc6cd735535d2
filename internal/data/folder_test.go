package data

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/image/bmp"
)

// encode writes img to path as PNG, JPEG or BMP by the extension.
func encode(t *testing.T, path string, img image.Image) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	var err error
	switch strings.ToLower(filepath.Ext(path)) {
	case ".png":
		err = png.Encode(&b, img)
	case ".jpg", ".jpeg":
		err = jpeg.Encode(&b, img, &jpeg.Options{Quality: 95})
	case ".bmp":
		err = bmp.Encode(&b, img)
	}
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, b.Bytes())
}

// flat returns a w x h image of one colour, grey when grey is set.
func flat(w, h int, c color.RGBA, grey bool) image.Image {
	r := image.Rect(0, 0, w, h)
	if grey {
		m := image.NewGray(r)
		for i := range m.Pix {
			m.Pix[i] = c.G
		}
		return m
	}
	m := image.NewRGBA(r)
	for i := 0; i < len(m.Pix); i += 4 {
		m.Pix[i], m.Pix[i+1], m.Pix[i+2], m.Pix[i+3] = c.R, c.G, c.B, 255
	}
	return m
}

// catsAndDogs writes a folder of two classes, cat (red) and dog (blue),
// in mixed formats, sizes and colour models, with a nested sub-folder,
// hidden and non-image files and three broken files. It returns the folder
// and the paths of the broken files, in path order.
func catsAndDogs(t *testing.T) (string, []string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "pets")
	red, blue := color.RGBA{200, 30, 30, 255}, color.RGBA{20, 40, 210, 255}
	for i, size := range [][2]int{{32, 32}, {64, 48}, {17, 90}, {500, 375}, {32, 32}, {40, 40}} {
		ext := []string{".png", ".jpg", ".jpeg", ".PNG", ".bmp", ".gif"}[i]
		if ext == ".gif" {
			ext = ".png"
		}
		encode(t, filepath.Join(dir, "cat", "c"+string(rune('a'+i))+ext), flat(size[0], size[1], red, false))
		encode(t, filepath.Join(dir, "dog", "d"+string(rune('a'+i))+ext), flat(size[1], size[0], blue, false))
	}
	encode(t, filepath.Join(dir, "cat", "indoor", "deep", "n1.png"), flat(28, 28, red, false))
	encode(t, filepath.Join(dir, "dog", "g1.png"), flat(30, 30, color.RGBA{G: 90}, true)) // grey
	webp, err := os.ReadFile(filepath.Join("testdata", "blue-purple-pink.lossy.webp"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "dog", "w1.webp"), webp)
	var good bytes.Buffer
	if err := png.Encode(&good, flat(50, 50, red, false)); err != nil {
		t.Fatal(err)
	}
	broken := []string{
		filepath.Join(dir, "cat", "empty.jpg"),
		filepath.Join(dir, "cat", "indoor", "truncated.png"),
		filepath.Join(dir, "dog", "notes-renamed.png"),
	}
	writeFile(t, broken[0], nil)
	writeFile(t, broken[1], good.Bytes()[:good.Len()/2])
	writeFile(t, broken[2], []byte("not an image at all\n"))
	writeFile(t, filepath.Join(dir, "cat", "README.txt"), []byte("ignored"))
	writeFile(t, filepath.Join(dir, "dog", ".hidden.png"), []byte("hidden"))
	writeFile(t, filepath.Join(dir, "top-level.png"), good.Bytes()) // not in a class folder
	if err := os.MkdirAll(filepath.Join(dir, ".ipynb_checkpoints"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir, broken
}

func TestFolder(t *testing.T) {
	dir, broken := catsAndDogs(t)
	var log bytes.Buffer
	src, err := Open(Spec{Kind: KindFolder, Dir: dir, TestSplit: 0.25, Seed: 3, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(src.Classes(), []string{"cat", "dog"}) || src.Geometry() != CIFARGeometry {
		t.Fatalf("classes %q, geometry %s", src.Classes(), src.Geometry())
	}
	sp, err := Load(context.Background(), src, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	// 7 usable cats (6 + nested), 8 usable dogs (6 + grey + WebP); a
	// quarter of each held out.
	count := func(d *Dataset, l uint8) int {
		n := 0
		for _, x := range d.Labels {
			if x == l {
				n++
			}
		}
		return n
	}
	if c, d := count(sp.Train, 0)+count(sp.Test, 0), count(sp.Train, 1)+count(sp.Test, 1); c != 7 || d != 8 {
		t.Fatalf("%d cats, %d dogs; want 7, 8", c, d)
	}
	if sp.Test.Len() != 4 || count(sp.Test, 0) != 2 || count(sp.Test, 1) != 2 {
		t.Fatalf("test split: %d images, %d cats", sp.Test.Len(), count(sp.Test, 0))
	}
	// Every cat is red and every dog blue (or grey, or the WebP): the
	// images were converted, and labels follow their top class folder.
	for _, d := range []*Dataset{sp.Train, sp.Test} {
		for i := range d.Len() {
			img := d.Image(i)
			r, b := int(img[500]), int(img[2048+500])
			if d.Labels[i] == 0 && (r < 150 || b > 80) {
				t.Errorf("cat image %d has r=%d b=%d", i, r, b)
			}
		}
	}
	// Each broken file is named once, with its reason, and listed.
	skipped := SkippedOf(src)
	var paths []string
	for _, s := range skipped {
		paths = append(paths, s.Path)
		if n := strings.Count(log.String(), s.Path+": "); n != 1 {
			t.Errorf("%s named %d times on the log:\n%s", s.Path, n, log.String())
		}
	}
	if !slices.Equal(paths, broken) {
		t.Fatalf("skipped %q, want %q", paths, broken)
	}
	for i, want := range []string{"empty file", "unexpected EOF", "image: unknown format"} {
		if skipped[i].Reason != want {
			t.Errorf("%s: reason %q, want %q", skipped[i].Path, skipped[i].Reason, want)
		}
	}
	if !strings.Contains(log.String(), "skipped 3 of 18 images of folder "+dir) {
		t.Errorf("log lacks the summary:\n%s", log.String())
	}
	// Same seed, same split; another seed, another one.
	again, err := Open(Spec{Kind: KindFolder, Dir: dir, TestSplit: 0.25, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	test2, err := again.Split(context.Background(), SplitTest)
	if err != nil {
		t.Fatal(err)
	}
	equalDataset(t, test2, sp.Test)
	other, _ := Open(Spec{Kind: KindFolder, Dir: dir, TestSplit: 0.25, Seed: 4})
	test3, err := other.Split(context.Background(), SplitTest)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(test3.Images, sp.Test.Images) {
		t.Error("another seed gave the same test split")
	}
	if got := Detect(dir); got != KindFolder {
		t.Errorf("Detect = %q", got)
	}
}

func TestFolderOnErrorFail(t *testing.T) {
	dir, broken := catsAndDogs(t)
	src, err := Open(Spec{Kind: KindFolder, Dir: dir, TestSplit: 0.2, OnError: "fail"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Load(context.Background(), src, 0.2, 1)
	if err == nil || !errors.Is(err, ErrInvalid) {
		t.Fatalf("err = %v, want ErrInvalid", err)
	}
	if !strings.Contains(err.Error(), "3 of 18 images could not be decoded, the first "+broken[0]+" (data.on_error is fail)") {
		t.Fatalf("err = %v", err)
	}
}

// TestFolderGeometry checks data.image_size, data.channels and data.resize
// on folder images: a grey PNG of the target size comes through exactly,
// RGB becomes its luma, and crop/pad fit images of another aspect ratio.
func TestFolderGeometry(t *testing.T) {
	dir := t.TempDir()
	g := synthOf(grey28, 6, 2, 7)
	g.Classes = []string{"a", "b"}
	if err := WriteFolder(dir, g, "png"); err != nil {
		t.Fatal(err)
	}
	src, err := Open(Spec{Kind: KindFolder, Dir: dir, Height: 28, Width: 28, Channels: 1, TestSplit: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	all := [][]byte{}
	for _, split := range []string{SplitTrain, SplitTest} {
		d, err := src.Split(context.Background(), split)
		if err != nil {
			t.Fatal(err)
		}
		for i := range d.Len() {
			all = append(all, d.Image(i))
		}
	}
	for i := range g.Len() {
		if !slices.ContainsFunc(all, func(b []byte) bool { return bytes.Equal(b, g.Image(i)) }) {
			t.Fatalf("grey image %d did not come through exactly", i)
		}
	}
	// Wide red|green|blue bands: crop keeps the green centre; pad adds
	// black rows above and below.
	wide := filepath.Join(t.TempDir(), "w")
	img := image.NewRGBA(image.Rect(0, 0, 96, 32))
	for y := range 32 {
		for x := range 96 {
			img.Set(x, y, []color.RGBA{{255, 0, 0, 255}, {0, 255, 0, 255}, {0, 0, 255, 255}}[x/32])
		}
	}
	for _, p := range []string{"x/a.png", "x/b.png", "y/a.png", "y/b.png"} {
		encode(t, filepath.Join(wide, p), img)
	}
	for _, tc := range []struct {
		resize string
		check  func(d []byte) bool
	}{
		{"crop", func(d []byte) bool { return d[0] < 10 && d[1024] > 245 && d[2048+1023] < 10 }},
		{"pad", func(d []byte) bool { return d[0]|d[1024]|d[2048] == 0 && d[16*32] > 200 }},
		{"stretch", func(d []byte) bool { return d[16*32] > 200 && d[2048+16*32+31] > 200 }},
	} {
		src, err := Open(Spec{Kind: KindFolder, Dir: wide, Height: 32, Width: 32, Resize: tc.resize, TestSplit: 0.5})
		if err != nil {
			t.Fatal(err)
		}
		d, err := src.Split(context.Background(), SplitTrain)
		if err != nil {
			t.Fatal(err)
		}
		if !tc.check(d.Image(0)) {
			t.Errorf("%s: unexpected image", tc.resize)
		}
	}
}

func TestFolderErrors(t *testing.T) {
	png1 := func(t *testing.T, p string) { encode(t, p, flat(8, 8, color.RGBA{1, 2, 3, 255}, false)) }
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  string
		noDat bool
	}{
		{name: "missing", setup: func(t *testing.T, dir string) { _ = os.RemoveAll(dir) }, want: "no image folder at", noDat: true},
		{name: "one class", setup: func(t *testing.T, dir string) { png1(t, filepath.Join(dir, "a", "x.png")) },
			want: "1 class folders (a), want at least 2"},
		{name: "class without images", setup: func(t *testing.T, dir string) {
			png1(t, filepath.Join(dir, "a", "x.png"))
			writeFile(t, filepath.Join(dir, "b", "notes.txt"), []byte("x"))
		}, want: "no images (.png .jpg .jpeg .gif .bmp .webp) in class folder " + filepath.Join("DIR", "b")},
		{name: "class without usable images", setup: func(t *testing.T, dir string) {
			png1(t, filepath.Join(dir, "a", "x.png"))
			writeFile(t, filepath.Join(dir, "b", "x.png"), nil)
		}, want: "no usable image in class folder " + filepath.Join("DIR", "b")},
		{name: "train and test differ", setup: func(t *testing.T, dir string) {
			for _, p := range []string{"train/cat/a.png", "train/dog/a.png", "train/eel/a.png", "test/cat/a.png", "test/dog/a.png", "test/fox/a.png"} {
				png1(t, filepath.Join(dir, p))
			}
		}, want: "train/ and test/ hold different class folders: only in train/: eel; only in test/: fox"},
		{name: "test class without images", setup: func(t *testing.T, dir string) {
			for _, p := range []string{"train/cat/a.png", "train/dog/a.png", "test/cat/a.png"} {
				png1(t, filepath.Join(dir, p))
			}
			if err := os.MkdirAll(filepath.Join(dir, "test", "dog"), 0o755); err != nil {
				t.Fatal(err)
			}
		}, want: "in class folder " + filepath.Join("DIR", "test", "dog")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "imgs")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			tc.setup(t, dir)
			src, err := Open(Spec{Kind: KindFolder, Dir: dir, TestSplit: 0.5})
			if err == nil {
				_, err = Load(context.Background(), src, 0, 1)
			}
			want := strings.ReplaceAll(tc.want, "DIR", dir)
			if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), dir) {
				t.Fatalf("err = %v, want %q", err, want)
			}
			if errors.Is(err, ErrNoData) != tc.noDat || (!tc.noDat && !errors.Is(err, ErrInvalid)) {
				t.Errorf("ErrNoData %v, ErrInvalid %v", errors.Is(err, ErrNoData), errors.Is(err, ErrInvalid))
			}
		})
	}
}

// TestFolderTrainTest checks a folder with train/ and test/: they are the
// splits, whatever data.test_split says.
func TestFolderTrainTest(t *testing.T) {
	dir := t.TempDir()
	tr, te := synthOf(CIFARGeometry, 9, 3, 1), synthOf(CIFARGeometry, 6, 3, 2)
	if err := WriteFolder(filepath.Join(dir, SplitTrain), tr, "png"); err != nil {
		t.Fatal(err)
	}
	if err := WriteFolder(filepath.Join(dir, SplitTest), te, "png"); err != nil {
		t.Fatal(err)
	}
	src, err := Open(Spec{Kind: KindFolder, Dir: dir, TestSplit: 0.9})
	if err != nil {
		t.Fatal(err)
	}
	sp, err := Load(context.Background(), src, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if sp.Train.Len() != 9 || sp.Test.Len() != 6 {
		t.Fatalf("%d train, %d test images", sp.Train.Len(), sp.Test.Len())
	}
	// WriteFolder names files by index, so each class folder lists its
	// images in the original order.
	for _, pair := range []struct{ got, want *Dataset }{{sp.Train, tr}, {sp.Test, te}} {
		for c := range 3 {
			var got, want [][]byte
			for i := range pair.got.Len() {
				if int(pair.got.Labels[i]) == c {
					got = append(got, pair.got.Image(i))
				}
			}
			for i := range pair.want.Len() {
				if int(pair.want.Labels[i]) == c {
					want = append(want, pair.want.Image(i))
				}
			}
			if !slices.EqualFunc(got, want, bytes.Equal) {
				t.Fatalf("class %d differs", c)
			}
		}
	}
}

// TestFolderSymlinks checks that symbolic links to class folders and
// sub-folders are followed, and a link back up the tree is not a loop.
func TestFolderSymlinks(t *testing.T) {
	root := t.TempDir()
	elsewhere := filepath.Join(root, "elsewhere")
	encode(t, filepath.Join(elsewhere, "a.png"), flat(8, 8, color.RGBA{9, 9, 9, 255}, false))
	dir := filepath.Join(root, "imgs")
	encode(t, filepath.Join(dir, "one", "x.png"), flat(8, 8, color.RGBA{9, 9, 9, 255}, false))
	if err := os.Symlink(elsewhere, filepath.Join(dir, "two")); err != nil {
		t.Skip("no symlinks here:", err)
	}
	if err := os.Symlink(dir, filepath.Join(dir, "one", "loop")); err != nil {
		t.Fatal(err)
	}
	src, err := Open(Spec{Kind: KindFolder, Dir: dir, TestSplit: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(src.Classes(), []string{"one", "two"}) {
		t.Fatalf("classes %q", src.Classes())
	}
	if n := len(src.(*folder).files); n != 2 {
		t.Fatalf("%d files, want 2 (the loop followed?)", n)
	}
}
