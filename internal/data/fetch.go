package data

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
)

const (
	// DefaultURL is the official CIFAR-10 binary tarball.
	DefaultURL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
	// DefaultSHA256 is the SHA-256 of the official tarball.
	DefaultSHA256 = "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd"
)

// FetchOptions configures Fetch.
type FetchOptions struct {
	// Dir receives the .bin files and batches.meta.txt, flat. Required.
	Dir string
	// URL of the tarball to download; DefaultURL if empty.
	URL string
	// SHA256 the download must have (hex); DefaultSHA256 if empty.
	SHA256 string
	// From is a local data directory or tarball to install instead of
	// downloading. Its structure is validated; its checksum is not.
	From string
	// Progress receives progress messages (typically stderr); may be nil.
	Progress io.Writer
	// Interactive shows a progress bar on Progress while downloading.
	Interactive bool
	// Client does the download; http.DefaultClient if nil.
	Client *http.Client
}

// Fetch installs CIFAR-10 into opts.Dir: it downloads opts.URL (or uses
// opts.From), verifies the download's SHA-256, validates all seven files
// (presence, sizes, labels, class names) and only then moves them into
// place, each file atomically. On error no half-written file is left in Dir.
func Fetch(ctx context.Context, opts FetchOptions) error {
	if opts.Dir == "" {
		return errors.New("fetch CIFAR-10: no data directory given")
	}
	if opts.URL == "" {
		opts.URL = DefaultURL
	}
	if opts.SHA256 == "" {
		opts.SHA256 = DefaultSHA256
	}
	if opts.Client == nil {
		opts.Client = http.DefaultClient
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return fmt.Errorf("create data dir %s: %w", opts.Dir, err)
	}
	src := opts.From
	if src == "" {
		tmp, err := download(ctx, opts)
		if err != nil {
			return err
		}
		defer os.Remove(tmp)
		src = tmp
	}
	if err := install(ctx, src, opts.Dir); err != nil {
		return err
	}
	progressf(opts.Progress, "installed CIFAR-10 (%d files) in %s\n", len(AllFiles()), opts.Dir)
	return nil
}

// progressf writes a progress message to w if it is not nil. Progress
// output is best effort, so write errors are ignored.
func progressf(w io.Writer, format string, args ...any) {
	if w != nil {
		_, _ = fmt.Fprintf(w, format, args...)
	}
}

// download fetches opts.URL into a hidden temporary file in opts.Dir and
// checks its SHA-256. It returns the file's path; on error the file is
// removed.
func download(ctx context.Context, opts FetchOptions) (path string, err error) {
	f, err := os.CreateTemp(opts.Dir, ".cifar-10-binary-*.tar.gz.part")
	if err != nil {
		return "", fmt.Errorf("create download file in %s: %w", opts.Dir, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, opts.URL, nil)
	if err != nil {
		return "", fmt.Errorf("download %s: %w", opts.URL, err)
	}
	resp, err := opts.Client.Do(req)
	if err != nil {
		return "", fmt.Errorf("download %s: %w", opts.URL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("download %s: %s", opts.URL, resp.Status)
	}
	h := sha256.New()
	w := io.MultiWriter(f, h)
	var bar *progressbar.ProgressBar
	if opts.Interactive && opts.Progress != nil {
		bar = newBytesBar(resp.ContentLength, "downloading CIFAR-10", opts.Progress)
		w = io.MultiWriter(w, bar)
	} else {
		progressf(opts.Progress, "downloading %s\n", opts.URL)
	}
	n, err := io.Copy(w, resp.Body)
	if bar != nil {
		if err == nil && !bar.IsFinished() {
			_ = bar.Finish()
		} else if err != nil {
			_ = bar.Exit()
		}
	}
	if err != nil {
		return "", fmt.Errorf("download %s: %w", opts.URL, err)
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return "", fmt.Errorf("download %s: got %d bytes, want %d", opts.URL, n, resp.ContentLength)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("close %s: %w", tmp, err)
	}
	got := hex.EncodeToString(h.Sum(nil))
	if !strings.EqualFold(got, strings.TrimSpace(opts.SHA256)) {
		return "", fmt.Errorf("download %s: SHA-256 mismatch: got %s, want %s", opts.URL, got, opts.SHA256)
	}
	progressf(opts.Progress, "downloaded %d bytes, SHA-256 %s verified\n", n, got)
	return tmp, nil
}

// newBytesBar returns a progressbar/v3 bar like progressbar.DefaultBytes
// that writes to w instead of stderr.
func newBytesBar(total int64, desc string, w io.Writer) *progressbar.ProgressBar {
	return progressbar.NewOptions64(total,
		progressbar.OptionSetDescription(desc),
		progressbar.OptionSetWriter(w),
		progressbar.OptionShowBytes(true),
		progressbar.OptionShowTotalBytes(true),
		progressbar.OptionSetWidth(10),
		progressbar.OptionThrottle(65*time.Millisecond),
		progressbar.OptionShowCount(),
		progressbar.OptionOnCompletion(func() { _, _ = fmt.Fprint(w, "\n") }),
		progressbar.OptionSpinnerType(14),
		progressbar.OptionFullWidth(),
		progressbar.OptionSetRenderBlankState(true),
	)
}

// install validates the seven files at src and moves them into dir: every
// file is first staged (validated, written, synced) as a hidden temporary
// file in dir; only when all are staged are they renamed into place.
func install(ctx context.Context, src, dir string) (err error) {
	set, err := openSource(src, AllFiles())
	if err != nil {
		return invalid(err)
	}
	staged := make(map[string]string) // name -> temporary path
	defer func() {
		if err != nil {
			for _, tmp := range staged {
				_ = os.Remove(tmp)
			}
		}
	}()
	var buf []byte
	for _, name := range AllFiles() {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("install CIFAR-10 into %s: %w", dir, err)
		}
		raw, err := set.read(name, buf)
		if err != nil {
			return invalid(err)
		}
		if _, ok := set.(dirSet); ok {
			buf = raw
		}
		if err := validateFile(name, raw); err != nil {
			return invalid(err)
		}
		tmp, err := stageFile(dir, name, func(w io.Writer) error {
			_, err := w.Write(raw)
			return err
		})
		if err != nil {
			return err
		}
		staged[name] = tmp
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("install CIFAR-10 into %s: %w", dir, err)
	}
	for _, name := range AllFiles() {
		dst := filepath.Join(dir, name)
		if err := os.Rename(staged[name], dst); err != nil {
			return fmt.Errorf("rename %s to %s: %w", staged[name], dst, err)
		}
		delete(staged, name)
	}
	return syncDir(dir)
}

// validateFile checks the content of one dataset file.
func validateFile(name string, raw []byte) error {
	if name == MetaFile {
		_, err := parseMeta(name, raw, cifar10Classes)
		return err
	}
	if len(raw)%RecordSize != 0 {
		return sizeError(name, int64(len(raw)))
	}
	return decodeBatch(name, raw, nil, make([]uint8, len(raw)/RecordSize))
}
