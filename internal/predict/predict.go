// Package predict classifies image files with a trained checkpoint: the
// logic behind "lepton predict".
package predict

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/lepton-cli/lepton/internal/classifier"
	"github.com/lepton-cli/lepton/internal/imaging"
)

// ErrSomeFailed is returned when at least one input could not be classified.
var ErrSomeFailed = errors.New("some inputs could not be classified")

// chunk is how many images are decoded before a batched forward pass.
const chunk = classifier.InferenceBatch

// Options configure a prediction.
type Options struct {
	Model  *classifier.Model
	Paths  []string // image files; "-" reads one image from Stdin
	TopK   int      // classes shown per image (default 3)
	Output string   // text or json (JSON Lines)
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// Class is one class and its probability.
type Class struct {
	Class       string  `json:"class"`
	Probability float64 `json:"probability"`
}

// Result is the prediction for one input.
type Result struct {
	Path  string  `json:"path"`
	Top   []Class `json:"top,omitempty"`
	Error string  `json:"error,omitempty"`
}

// Run classifies every path and writes one line per input. Inputs that
// cannot be read or decoded are reported on Stderr (and as error objects in
// JSON mode) and the others are still classified; Run then returns an error
// wrapping ErrSomeFailed.
func Run(ctx context.Context, opts Options) error {
	if opts.Output != "" && opts.Output != "text" && opts.Output != "json" {
		return fmt.Errorf("--output %q: want text or json", opts.Output)
	}
	k := opts.TopK
	if k <= 0 {
		k = 3
	}
	k = min(k, len(opts.Model.Classes))
	failed := 0
	for start := 0; start < len(opts.Paths); start += chunk {
		paths := opts.Paths[start:min(start+chunk, len(opts.Paths))]
		results := make([]Result, len(paths))
		var images [][]byte
		var slots []int
		for i, p := range paths {
			results[i].Path = p
			img, err := load(p, opts.Stdin)
			if err != nil {
				results[i].Error = err.Error()
				continue
			}
			images = append(images, img)
			slots = append(slots, i)
		}
		m := opts.Model
		err := m.Logits(ctx, len(images),
			func(i int, dst []float32) { m.Stats.Normalize(dst, images[i]) },
			func(i int, logits []float32) { results[slots[i]].Top = top(m.Classes, logits, k) })
		if err != nil {
			return err
		}
		for _, r := range results {
			if r.Error != "" {
				failed++
				fmt.Fprintf(opts.Stderr, "lepton: %s\n", r.Error)
			}
			if err := write(opts.Stdout, opts.Output, r); err != nil {
				return fmt.Errorf("write prediction: %w", err)
			}
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d inputs: %w", failed, len(opts.Paths), ErrSomeFailed)
	}
	return nil
}

func load(path string, stdin io.Reader) ([]byte, error) {
	if path != "-" {
		return imaging.LoadFile(path, imaging.MaxPixels)
	}
	if stdin == nil {
		return nil, errors.New("-: no standard input")
	}
	img, err := imaging.Decode(stdin, imaging.MaxPixels)
	if err != nil {
		return nil, fmt.Errorf("-: %w", err)
	}
	return imaging.ToCIFAR(img), nil
}

func top(classes []string, logits []float32, k int) []Class {
	p := classifier.Softmax(logits)
	idx := make([]int, len(p))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return p[idx[a]] > p[idx[b]] })
	out := make([]Class, k)
	for i := range out {
		out[i] = Class{Class: classes[idx[i]], Probability: p[idx[i]]}
	}
	return out
}

func write(w io.Writer, format string, r Result) error {
	if format == "json" {
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	if r.Error != "" {
		return nil
	}
	line := r.Path
	for _, c := range r.Top {
		line += fmt.Sprintf("\t%s %.4f", c.Class, c.Probability)
	}
	_, err := fmt.Fprintln(w, line)
	return err
}
