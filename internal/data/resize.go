package data

import (
	"context"
	"image"
	"sync"

	"github.com/lepton-cli/lepton/internal/imaging"
)

// resized gives a source's splits at another geometry.
type resized struct {
	Source
	g       Geometry
	fit     imaging.Fit
	workers int
}

func (r *resized) Geometry() Geometry { return r.g }

func (r *resized) Split(ctx context.Context, name string) (*Dataset, error) {
	d, err := r.Source.Split(ctx, name)
	if err != nil {
		return nil, err
	}
	return Resize(ctx, d, r.g, r.fit, r.workers)
}

// unwrap returns the source of the images before resizing.
func (r *resized) unwrap() Source { return r.Source }

// Resize returns a copy of d with every image converted to geometry g, as
// folder images are: resampled with predict's resampler and fitted with
// fit, grey and RGB converted to g's channels (see imaging.Planar). It
// uses up to workers goroutines.
func Resize(ctx context.Context, d *Dataset, g Geometry, fit imaging.Fit, workers int) (*Dataset, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	out := &Dataset{Geometry: g, Images: make([]byte, d.Len()*g.Size()),
		Labels: append([]uint8(nil), d.Labels...), Classes: append([]string(nil), d.Classes...)}
	n := d.Len()
	workers = max(1, min(workers, n))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				if i%256 == 0 && ctx.Err() != nil {
					return
				}
				img := ToImage(d.Image(i), d.Geometry)
				copy(out.Image(i), imaging.Planar(img, g.Width, g.Height, g.Channels, fit))
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// ToImage returns the planar image img of geometry g as an image.Image: a
// Gray image for one channel, an opaque RGBA image for three (other
// channel counts show their first three planes, or the first one as grey).
func ToImage(img []byte, g Geometry) image.Image {
	plane := g.Plane()
	r := image.Rect(0, 0, g.Width, g.Height)
	if g.Channels < 3 {
		m := image.NewGray(r)
		copy(m.Pix, img[:plane])
		return m
	}
	m := image.NewRGBA(r)
	for i := range plane {
		m.Pix[4*i] = img[i]
		m.Pix[4*i+1] = img[plane+i]
		m.Pix[4*i+2] = img[2*plane+i]
		m.Pix[4*i+3] = 0xff
	}
	return m
}
