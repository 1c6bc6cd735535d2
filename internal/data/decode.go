package data

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lepton-cli/lepton/internal/imaging"
	"github.com/lepton-cli/lepton/internal/regularfile"
)

// decodeOrRead fills f.all and f.skipped: from the cache when it holds
// this folder as it is now, else by decoding every image (in parallel,
// one goroutine per core) and then caching the result.
func (f *folder) decodeOrRead(ctx context.Context) error {
	start := time.Now()
	c := f.cache()
	if c != nil {
		ok, state, err := c.read(f)
		if err == nil && ok {
			f.loaded = loadInfo{cache: CacheInfo{Dir: c.dir, State: CacheUsed}, seconds: time.Since(start).Seconds()}
			fmt.Fprintf(f.spec.progress(), "lepton: read %d decoded images of folder %s from the cache in %.2fs\n",
				f.all.Len(), f.dir, f.loaded.seconds)
			return nil
		}
		if err != nil {
			fmt.Fprintf(f.spec.log(), "lepton: ignoring the folder cache %s: %v\n", c.dir, err)
		}
		f.loaded.cache = CacheInfo{Dir: c.dir, State: state}
	}
	if err := f.decode(ctx); err != nil {
		return err
	}
	f.loaded.seconds = time.Since(start).Seconds()
	f.loaded.decoded = len(f.files)
	fmt.Fprintf(f.spec.progress(), "lepton: decoded %d images of folder %s in %.2fs (%.0f images/s, %d workers)\n",
		len(f.files), f.dir, f.loaded.seconds, float64(len(f.files))/max(f.loaded.seconds, 1e-9), f.spec.workers())
	if c != nil {
		if err := c.write(f); err != nil {
			fmt.Fprintf(f.spec.log(), "lepton: could not cache the decoded folder: %v\n", err)
		} else {
			f.loaded.cache.State = CacheWritten
		}
	}
	return nil
}

// decode decodes every file of f in parallel into f.all, recording each
// file's error (in f.files) and the skipped ones.
func (f *folder) decode(ctx context.Context) error {
	n, size := len(f.files), f.g.Size()
	images := make([]byte, n*size)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range max(1, min(f.spec.workers(), n)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				file := &f.files[i]
				if file.Error != "" {
					continue // found unusable while scanning
				}
				img, err := decodeFile(filepath.Join(f.dir, filepath.FromSlash(file.Rel)), f.g, f.fit)
				if err != nil {
					file.Error = err.Error()
					continue
				}
				copy(images[i*size:], img)
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	f.setImages(images)
	return nil
}

// setImages keeps the images of the files decoded without error (images
// holds one slot per file) and lists the others as skipped.
func (f *folder) setImages(images []byte) {
	size := f.g.Size()
	k := 0
	for i, file := range f.files {
		if file.Error != "" {
			continue
		}
		if k != i {
			copy(images[k*size:(k+1)*size], images[i*size:(i+1)*size])
		}
		k++
	}
	f.setCompact(images[:k*size])
}

// setCompact makes images, those of the files without an error in order,
// the folder's decoded set and lists the other files as skipped.
func (f *folder) setCompact(images []byte) {
	d := &Dataset{Geometry: f.g, Classes: f.Classes(), Images: images[:len(images):len(images)]}
	f.skipped = nil
	for _, file := range f.files {
		if file.Error != "" {
			f.skipped = append(f.skipped, Skipped{Path: filepath.Join(f.dir, filepath.FromSlash(file.Rel)), Reason: file.Error})
			continue
		}
		d.Labels = append(d.Labels, uint8(file.Class))
	}
	f.all = d
}

// decodeFile decodes the image file at path (a regular file, its pixel
// count bounded before decoding) and converts it to geometry g with fit.
// Its error is the reason alone, without the path.
func decodeFile(path string, g Geometry, fit imaging.Fit) ([]byte, error) {
	fh, err := regularfile.Open(path) // a FIFO must not block the decoding
	if err != nil {
		return nil, reason(err)
	}
	defer fh.Close()
	img, err := imaging.Decode(fh, imaging.MaxPixels)
	if err != nil {
		return nil, reason(err)
	}
	return imaging.Planar(img, g.Width, g.Height, g.Channels, fit), nil
}

// reason strips the path from an os error and keeps one line.
func reason(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return errors.New(strings.ReplaceAll(err.Error(), "\n", " "))
}
