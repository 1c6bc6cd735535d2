// Package predict classifies image files with a trained checkpoint: the
// logic behind "lepton predict".
//
// Every image is converted to the model's input as its description says
// (classifier.Model.ImageShape): resized to its size with the resampler of
// the folder data sets, fitted the way its training data was, and turned
// grey or RGB to match its channels.
//
// Inputs are files, directories (walked recursively for image files),
// lists of paths (--files-from) and standard input. Images are decoded by
// a pool of worker goroutines while earlier ones go through the network in
// batches; results are written in input order.
package predict

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"sync"

	"github.com/lepton-cli/lepton/internal/classifier"
	"github.com/lepton-cli/lepton/internal/imaging"
)

// ErrSomeFailed is returned when at least one input could not be classified.
var ErrSomeFailed = errors.New("some inputs could not be classified")

// Formats lists the output formats of Run.
var Formats = []string{"text", "json", "csv"}

// chunk is how many inputs are collected before a batched forward pass.
const chunk = classifier.InferenceBatch

// Options configure a prediction.
type Options struct {
	Model *classifier.Model
	// Paths are image files, directories (walked recursively for files
	// with an image extension, in sorted order) or "-", one image read
	// from Stdin.
	Paths []string
	// FilesFrom names a file listing more paths, one a line (blank lines
	// are skipped); "-" reads the list from Stdin. Its paths come after
	// Paths and are expanded the same way.
	FilesFrom string
	TopK      int    // classes shown per image (default 3)
	Output    string // text, json (JSON Lines) or csv
	Logits    bool   // add the raw logits to json and csv output
	Workers   int    // decoding goroutines (default GOMAXPROCS)
	Stdin     io.Reader
	Stdout    io.Writer
	Stderr    io.Writer
}

// Check reports options that cannot work together: an unknown output
// format, --logits with text output, or standard input used both for an
// image and for the path list.
func (o Options) Check() error {
	if o.Output != "" && !slices.Contains(Formats, o.Output) {
		return fmt.Errorf("--output %q: want one of text, json, csv", o.Output)
	}
	if o.Logits && (o.Output == "" || o.Output == "text") {
		return errors.New("--logits needs --output json or csv")
	}
	if o.FilesFrom == "-" && slices.Contains(o.Paths, "-") {
		return errors.New(`standard input cannot be both an image ("-") and the --files-from list`)
	}
	return nil
}

// TopK returns the k of a top-k output over n classes: 3 when k is 0 or
// less (callers refuse such values from users), and n, with a note on
// stderr (when not nil), when k is more than n.
func TopK(k, n int, stderr io.Writer) int {
	if k <= 0 {
		return min(3, n)
	}
	if k > n {
		if stderr != nil {
			fmt.Fprintf(stderr, "lepton: --top-k %d is more than the checkpoint's %d classes: using %d\n", k, n, n)
		}
		return n
	}
	return k
}

// Class is one class and its probability.
type Class struct {
	Class       string  `json:"class"`
	Probability float64 `json:"probability"`
}

// Result is the prediction for one input: its top classes, the raw logits
// when asked for, or why it could not be classified.
type Result struct {
	Path   string    `json:"path"`
	Top    []Class   `json:"top,omitempty"`
	Logits []float32 `json:"logits,omitempty"`
	Error  string    `json:"error,omitempty"`
}

// Run classifies every input and writes one line (text), JSON object (json)
// or row (csv, after a header) per input, in input order. Inputs that
// cannot be read or decoded are reported on Stderr (and as error objects in
// JSON, error cells in CSV) and the others are still classified; Run then
// returns an error wrapping ErrSomeFailed.
//
// The CSV header is path,class,probability, then class_N,probability_N for
// the N-th most likely class up to the top-k, then (with Logits) one
// logit_<class> column per class in class order, then error.
func Run(ctx context.Context, opts Options) error {
	if err := opts.Check(); err != nil {
		return err
	}
	m := opts.Model
	k := TopK(opts.TopK, len(m.Classes), opts.Stderr)
	inputs, err := Inputs(opts.Paths, opts.FilesFrom, opts.Stdin)
	if err != nil {
		return err
	}
	w, err := newWriter(opts.Stdout, opts.Output, m.Classes, k, opts.Logits)
	if err != nil {
		return err
	}
	stdin := &lockedReader{r: opts.Stdin}
	shape := m.ImageShape()
	load := func(in Input) ([]byte, error) {
		if in.Err != nil {
			return nil, in.Err
		}
		return load(in.Path, shape, stdin)
	}

	failed := 0
	var batch []Result
	var images [][]byte
	var slots []int
	flush := func() error {
		err := m.Logits(ctx, len(images),
			func(i int, dst []float32) { m.Stats.Normalize(dst, images[i]) },
			func(i int, logits []float32) {
				r := &batch[slots[i]]
				r.Top = Top(m.Classes, logits, k)
				if opts.Logits {
					r.Logits = slices.Clone(logits)
				}
			})
		if err != nil {
			return err
		}
		for _, r := range batch {
			if r.Error != "" {
				failed++
				fmt.Fprintf(opts.Stderr, "lepton: %s\n", r.Error)
			}
			if err := w.write(r); err != nil {
				return fmt.Errorf("write prediction: %w", err)
			}
		}
		if err := w.flush(); err != nil {
			return fmt.Errorf("write prediction: %w", err)
		}
		batch, images, slots = batch[:0], images[:0], slots[:0]
		return nil
	}
	err = decodeOrdered(ctx, inputs, opts.Workers, load, func(i int, img []byte, err error) error {
		r := Result{Path: inputs[i].Path}
		if err != nil {
			r.Error = err.Error()
		} else {
			slots = append(slots, len(batch))
			images = append(images, img)
		}
		batch = append(batch, r)
		if len(batch) == chunk {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d inputs: %w", failed, len(inputs), ErrSomeFailed)
	}
	return nil
}

// Input is one image to classify, or a path that could not be expanded
// (Err set: an unreadable or image-less directory).
type Input struct {
	Path string
	Err  error
}

// Inputs expands paths and the --files-from list (filesFrom; "-" reads
// stdin) into the images to classify, in order: files and "-" are kept,
// directories are replaced by the image files under them (sorted). A
// directory that cannot be walked or holds no image is kept as an Input
// with Err set. Only a failure to read the list itself is an error.
func Inputs(paths []string, filesFrom string, stdin io.Reader) ([]Input, error) {
	all := slices.Clone(paths)
	if filesFrom != "" {
		listed, err := readList(filesFrom, stdin)
		if err != nil {
			return nil, err
		}
		all = append(all, listed...)
	}
	var out []Input
	for _, p := range all {
		if p == "-" {
			out = append(out, Input{Path: p})
			continue
		}
		info, err := os.Stat(p)
		if err != nil || !info.IsDir() {
			out = append(out, Input{Path: p}) // the loader reports the error
			continue
		}
		files, err := FindImages(p)
		switch {
		case err != nil:
			out = append(out, Input{Path: p, Err: err})
		case len(files) == 0:
			out = append(out, Input{Path: p, Err: fmt.Errorf("%s: no image files (%s) in the directory", p, extList())})
		}
		for _, f := range files {
			out = append(out, Input{Path: f})
		}
	}
	return out, nil
}

// readList reads a --files-from list: one path a line, blank lines and
// trailing carriage returns ignored.
func readList(name string, stdin io.Reader) ([]string, error) {
	var r io.Reader
	if name == "-" {
		if stdin == nil {
			return nil, errors.New("--files-from -: no standard input")
		}
		r = stdin
	} else {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("--files-from: %w", err)
		}
		defer f.Close()
		r = f
	}
	var out []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		if line != "" {
			out = append(out, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("--files-from %s: %w", name, err)
	}
	return out, nil
}

// lockedReader serializes reads of standard input by concurrent decoders.
type lockedReader struct {
	mu   sync.Mutex
	r    io.Reader
	used bool
}

// load reads the image at path ("-": standard input) converted to shape.
func load(path string, shape imaging.Shape, stdin *lockedReader) ([]byte, error) {
	if path != "-" {
		return imaging.LoadFileAs(path, imaging.MaxPixels, shape)
	}
	stdin.mu.Lock()
	defer stdin.mu.Unlock()
	if stdin.r == nil {
		return nil, errors.New("-: no standard input")
	}
	if stdin.used {
		return nil, errors.New("-: standard input was already read")
	}
	stdin.used = true
	img, err := imaging.Decode(stdin.r, imaging.MaxPixels)
	if err != nil {
		return nil, fmt.Errorf("-: %w", err)
	}
	return shape.Convert(img), nil
}

// decodeOrdered loads every input with workers goroutines (GOMAXPROCS if
// workers <= 0) and hands the results to yield in input order, keeping at
// most a few batches decoded ahead. It stops at the first error of yield or
// when ctx is done.
func decodeOrdered(ctx context.Context, inputs []Input, workers int, load func(Input) ([]byte, error), yield func(i int, img []byte, err error) error) error {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	type result struct {
		img []byte
		err error
	}
	type job struct {
		i   int
		out chan result
	}
	jobs := make(chan job)
	pending := make(chan chan result, 2*chunk) // in input order
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // producer
		defer wg.Done()
		defer close(jobs)
		defer close(pending)
		for i := range inputs {
			ch := make(chan result, 1)
			select {
			case pending <- ch:
			case <-done:
				return
			}
			select {
			case jobs <- job{i, ch}:
			case <-done:
				return
			}
		}
	}()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				img, err := load(inputs[j.i])
				j.out <- result{img, err}
			}
		}()
	}
	defer wg.Wait()
	defer close(done)
	i := 0
	for ch := range pending {
		if err := ctx.Err(); err != nil {
			return err
		}
		r := <-ch
		if err := yield(i, r.img, r.err); err != nil {
			return err
		}
		i++
	}
	return ctx.Err()
}

// DecodeFiles loads the image files at paths converted to shape (as Run
// converts them) with workers goroutines (GOMAXPROCS if workers <= 0) and
// hands each result to yield in path order. It stops at the first error of
// yield or when ctx is done.
func DecodeFiles(ctx context.Context, paths []string, shape imaging.Shape, workers int, yield func(i int, img []byte, err error) error) error {
	inputs := make([]Input, len(paths))
	for i, p := range paths {
		inputs[i] = Input{Path: p}
	}
	load := func(in Input) ([]byte, error) { return imaging.LoadFileAs(in.Path, imaging.MaxPixels, shape) }
	return decodeOrdered(ctx, inputs, workers, load, yield)
}

// extList is the image extensions for messages.
func extList() string {
	s := ""
	for i, e := range imageExts {
		if i > 0 {
			s += " "
		}
		s += e
	}
	return s
}
