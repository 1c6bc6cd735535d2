package imaging

import (
	"context"

	"golang.org/x/sync/semaphore"
)

// decoding is the pixel budget shared by all Decode calls in the process:
// at most MaxPixels pixels (up to 320 MB of 16-bit RGBA) are being decoded
// at once, so many workers or requests decoding large images wait for each
// other instead of running the process out of memory together. Small images
// still decode in parallel.
var decoding = semaphore.NewWeighted(MaxPixels)

// reserve takes n pixels of the decoding budget (all of it when n is
// larger, as with a custom maxPixels) and returns the function that gives
// them back.
func reserve(n int) (release func()) {
	w := int64(min(n, MaxPixels))
	// Acquire fails only when its context is done; Background never is.
	_ = decoding.Acquire(context.Background(), w)
	return func() { decoding.Release(w) }
}
