package evaluate

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/lepton-cli/lepton/internal/data"
	"github.com/lepton-cli/lepton/internal/imaging"
)

// TestLoadImageFolderSymlinks is the reproduction of issue 10: eval
// --images skipped symlinked class folders. Class folders that are links,
// links inside them and loops (back to the --images folder, a linked
// folder to itself) must all work, each image counted once, and the
// --images folder may be a link itself.
func TestLoadImageFolderSymlinks(t *testing.T) {
	base := t.TempDir()
	store := filepath.Join(base, "store")
	writePNG(t, filepath.Join(store, "cats", "0.png"), labelled(3, 0))
	writePNG(t, filepath.Join(store, "cats", "1.png"), labelled(3, 1))
	writePNG(t, filepath.Join(store, "more-dogs", "2.png"), labelled(5, 2))
	dir := filepath.Join(base, "imgs")
	writePNG(t, filepath.Join(dir, "dog", "0.png"), labelled(5, 0))
	for _, l := range []struct{ target, link string }{
		{"../store/cats", "imgs/cat"},              // a symlinked class folder
		{"../../store/more-dogs", "imgs/dog/more"}, // a link inside a class folder
		{"../../imgs", "imgs/dog/loop"},            // a loop back to the root
		{"imgs", "link"},                           // the folder through a link
		{".", "store/more-dogs/self"},              // a loop to itself
	} {
		if err := os.Symlink(l.target, filepath.Join(base, l.link)); err != nil {
			t.Skipf("symlinks not available: %v", err)
		}
	}
	want := &data.Dataset{Classes: data.DefaultClasses(), Labels: []uint8{3, 3, 5, 5}}
	for _, img := range [][]byte{labelled(3, 0), labelled(3, 1), labelled(5, 0), labelled(5, 2)} {
		want.Images = append(want.Images, img...)
	}
	for _, root := range []string{dir, filepath.Join(base, "link")} {
		t.Run(filepath.Base(root), func(t *testing.T) {
			var ds *data.Dataset
			var err error
			var stderr bytes.Buffer
			done := make(chan struct{})
			go func() {
				defer close(done)
				ds, err = LoadImageFolder(context.Background(), root, data.DefaultClasses(), imaging.CIFAR, 2, &stderr)
			}()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				t.Fatal("LoadImageFolder still walking after 20s (a symlink loop?)")
			}
			if err != nil {
				t.Fatalf("LoadImageFolder: %v (stderr %q)", err, stderr.String())
			}
			if !reflect.DeepEqual(ds.Labels, want.Labels) || !bytes.Equal(ds.Images, want.Images) {
				t.Errorf("loaded labels %v, want %v (images equal: %v)", ds.Labels, want.Labels, bytes.Equal(ds.Images, want.Images))
			}
		})
	}
}
