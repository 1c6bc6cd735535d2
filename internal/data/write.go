package data

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"image/jpeg"
	"image/png"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// WriteBin writes d in the CIFAR-10 .bin format: per image one label byte
// followed by its 3072 bytes. Labels are written unchecked, so tests can also
// build invalid files. It fails if d's images are not 32x32 RGB or
// len(d.Images) != d.Len()*3072.
func WriteBin(w io.Writer, d *Dataset) error {
	if d.Geometry != CIFARGeometry {
		return fmt.Errorf("write batch: images are %s, CIFAR-10 holds %s", d.Geometry, CIFARGeometry)
	}
	if size := CIFARGeometry.Size(); len(d.Images) != len(d.Labels)*size {
		return fmt.Errorf("write batch: %d image bytes for %d labels, want %d", len(d.Images), len(d.Labels), len(d.Labels)*size)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	for i, l := range d.Labels {
		if err := bw.WriteByte(l); err != nil {
			return fmt.Errorf("write record %d: %w", i, err)
		}
		if _, err := bw.Write(d.Image(i)); err != nil {
			return fmt.Errorf("write record %d: %w", i, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write batch: %w", err)
	}
	return nil
}

// WriteDir writes a complete data directory in the layout LoadTrain and
// LoadTest read: train split across data_batch_1..5.bin (as evenly as
// possible, some files may be empty), test as test_batch.bin,
// batches.meta.txt with train's class names (test's if train has none,
// DefaultClasses if neither has), and the record counts in RecordsFile
// unless they are the official 10,000 per file. A nil train or test writes
// empty files.
// dir is created if needed; each file is written atomically.
func WriteDir(dir string, train, test *Dataset) error {
	if train == nil {
		train = &Dataset{Geometry: CIFARGeometry}
	}
	if test == nil {
		test = &Dataset{Geometry: CIFARGeometry}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create data dir %s: %w", dir, err)
	}
	size := CIFARGeometry.Size()
	if train.Geometry != CIFARGeometry || len(train.Images) != len(train.Labels)*size {
		return fmt.Errorf("write train set to %s: %d image bytes for %d labels of %s images", dir, len(train.Images), len(train.Labels), train.Geometry)
	}
	n := train.Len()
	records := map[string]int{TestFile: test.Len()}
	for k, name := range TrainFiles() {
		lo, hi := k*n/5, (k+1)*n/5
		part := &Dataset{Geometry: CIFARGeometry, Images: train.Images[lo*size : hi*size], Labels: train.Labels[lo:hi]}
		if err := writeFileAtomic(dir, name, func(w io.Writer) error { return WriteBin(w, part) }); err != nil {
			return err
		}
		records[name] = hi - lo
	}
	if err := writeFileAtomic(dir, TestFile, func(w io.Writer) error { return WriteBin(w, test) }); err != nil {
		return err
	}
	if err := writeRecords(dir, records, cifar10Records); err != nil {
		return err
	}
	classes := train.Classes
	if len(classes) == 0 {
		classes = test.Classes
	}
	if len(classes) == 0 {
		classes = DefaultClasses()
	}
	meta := strings.Join(classes, "\n") + "\n"
	return writeFileAtomic(dir, MetaFile, func(w io.Writer) error {
		_, err := io.WriteString(w, meta)
		return err
	})
}

// writeRecords writes dir's RecordsFile listing records, unless every
// count is the official one (then any RecordsFile is removed).
func writeRecords(dir string, records map[string]int, official int) error {
	p := filepath.Join(dir, RecordsFile)
	for _, n := range records {
		if n != official {
			b, err := json.MarshalIndent(records, "", "  ")
			if err != nil {
				return fmt.Errorf("encode %s: %w", p, err)
			}
			return writeFileAtomic(dir, RecordsFile, func(w io.Writer) error {
				_, err := w.Write(append(b, '\n'))
				return err
			})
		}
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", p, err)
	}
	return nil
}

// writeFileAtomic writes dir/name via a synced temporary file renamed into
// place, so readers never see a half-written file.
func writeFileAtomic(dir, name string, write func(io.Writer) error) error {
	tmp, err := stageFile(dir, name, write)
	if err != nil {
		return err
	}
	dst := filepath.Join(dir, name)
	if err := os.Rename(tmp, dst); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("rename %s to %s: %w", tmp, dst, err)
	}
	return nil
}

// stageFile writes a hidden temporary file in dir (mode 0644), syncs and
// closes it, and returns its path. On error nothing is left behind.
func stageFile(dir, name string, write func(io.Writer) error) (tmp string, err error) {
	f, err := os.CreateTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("create temporary file for %s in %s: %w", name, dir, err)
	}
	tmp = f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if err := write(f); err != nil {
		return "", fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := f.Chmod(0o644); err != nil {
		return "", fmt.Errorf("chmod %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		return "", fmt.Errorf("sync %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("close %s: %w", tmp, err)
	}
	return tmp, nil
}

// syncDir flushes a directory's entries (after renames) to disk. Some
// platforms cannot sync directories; that is not an error.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open dir %s: %w", dir, err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	return nil
}

// WriteIDXDir writes train and test (grey images, one channel) as the four
// IDX files of MNIST's layout into dir, gzip-compressed (with the .gz
// names of the official downloads) when compress is set. dir is created if
// needed; each file is written atomically.
func WriteIDXDir(dir string, train, test *Dataset, compress bool) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create data dir %s: %w", dir, err)
	}
	for _, part := range []struct {
		images, labels string
		d              *Dataset
	}{{idxTrainImages, idxTrainLabels, train}, {idxTestImages, idxTestLabels, test}} {
		d := part.d
		if d.Geometry.Channels != 1 || len(d.Images) != d.Len()*d.Geometry.Size() {
			return fmt.Errorf("write IDX files to %s: want grey images, got %d image bytes of %d %s images", dir, len(d.Images), d.Len(), d.Geometry)
		}
		if err := writeIDX(dir, part.images, []int{d.Len(), d.Geometry.Height, d.Geometry.Width}, d.Images, compress); err != nil {
			return err
		}
		if err := writeIDX(dir, part.labels, []int{d.Len()}, d.Labels, compress); err != nil {
			return err
		}
	}
	return nil
}

// writeIDX writes one IDX file of unsigned bytes.
func writeIDX(dir, name string, dims []int, data []byte, compress bool) error {
	head := []byte{0, 0, 0x08, byte(len(dims))}
	for _, n := range dims {
		head = binary.BigEndian.AppendUint32(head, uint32(n))
	}
	if compress {
		name += ".gz"
	}
	return writeFileAtomic(dir, name, func(w io.Writer) error {
		if compress {
			zw := gzip.NewWriter(w)
			if _, err := zw.Write(head); err != nil {
				return err
			}
			if _, err := zw.Write(data); err != nil {
				return err
			}
			return zw.Close()
		}
		if _, err := w.Write(head); err != nil {
			return err
		}
		_, err := w.Write(data)
		return err
	})
}

// WriteFolder writes d's images as an image folder, DIR/<class>/<n>.<ext>
// with n the image's index, zero-padded: PNG for ext "png" (lossless),
// JPEG (quality 95) for "jpg". A "/" in a class name becomes "_". Grey
// images are written grey, RGB images RGB.
func WriteFolder(dir string, d *Dataset, ext string) error {
	if ext != "png" && ext != "jpg" {
		return fmt.Errorf("write folder %s: format %q, want png or jpg", dir, ext)
	}
	for c, name := range d.Classes {
		if err := os.MkdirAll(filepath.Join(dir, strings.ReplaceAll(name, "/", "_")), 0o755); err != nil {
			return fmt.Errorf("create class folder %d: %w", c, err)
		}
	}
	width := len(fmt.Sprint(d.Len()))
	for i := range d.Len() {
		img := ToImage(d.Image(i), d.Geometry)
		class := strings.ReplaceAll(d.Classes[d.Labels[i]], "/", "_")
		name := fmt.Sprintf("%0*d.%s", width, i, ext)
		err := writeFileAtomic(filepath.Join(dir, class), name, func(w io.Writer) error {
			if ext == "png" {
				return png.Encode(w, img)
			}
			return jpeg.Encode(w, img, &jpeg.Options{Quality: 95})
		})
		if err != nil {
			return err
		}
	}
	return nil
}
