package data

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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
	// Kind is the data set (one of Kinds() but folder); empty means
	// cifar10.
	Kind string
	// Dir receives the data set's files, flat. Required.
	Dir string
	// URL replaces the official download: the tarball for the CIFAR kinds,
	// the directory URL the four files are under for the MNIST kinds (a
	// mirror; the official digests still apply unless SHA256 is given).
	URL string
	// SHA256 is the digest a replaced CIFAR tarball must have (hex).
	SHA256 string
	// Downloads replaces the list of files to download (with URL, SHA256
	// and the official list ignored); for tests and private mirrors.
	Downloads []Download
	// From is a local copy to install instead of downloading: a directory
	// holding the files (or the official archive's folder), an archive, or
	// DebianFashionMNIST. Its structure is validated; its checksums are
	// not.
	From string
	// Progress receives progress messages (typically stderr); may be nil.
	Progress io.Writer
	// Interactive shows a progress bar on Progress while downloading.
	Interactive bool
	// Client does the download; http.DefaultClient if nil.
	Client *http.Client
}

// downloads returns what Fetch downloads for opts.
func (o FetchOptions) downloads() []Download {
	if o.Downloads != nil {
		return o.Downloads
	}
	d := Downloads(o.Kind)
	if o.URL == "" {
		return d
	}
	if len(d) == 1 { // a tarball
		sum := o.SHA256
		if sum == "" {
			sum = d[0].SHA256
		}
		return []Download{{o.URL, sum, d[0].Name}}
	}
	base := strings.TrimSuffix(o.URL, "/") + "/"
	for i := range d {
		d[i].URL = base + d[i].Name
	}
	return d
}

// Fetch installs a data set into opts.Dir: it downloads the official files
// (or uses opts.From), verifies each download's SHA-256, validates every
// file of the data set (presence, sizes, record counts, labels, class
// names) by reading it as training does, and only then moves the files
// into place, each atomically. Files already in Dir with the same content
// are left alone. On error no half-written file is left in Dir. Network
// failures wrap ErrNoData and name the offline alternatives; bad data
// wraps ErrInvalid.
func Fetch(ctx context.Context, opts FetchOptions) error {
	err := fetch(ctx, opts)
	return invalid(err)
}

func fetch(ctx context.Context, opts FetchOptions) error {
	kind := opts.Kind
	if kind == "" {
		kind = KindCIFAR10
	}
	l, ok := layoutOf(kind)
	if !ok {
		return fmt.Errorf("fetch %s: nothing to fetch for this kind (want one of cifar10, cifar100, mnist, fashion-mnist)", kind)
	}
	opts.Kind = kind
	if opts.Dir == "" {
		return fmt.Errorf("fetch %s: no data directory given", l.name)
	}
	if opts.Client == nil {
		opts.Client = http.DefaultClient
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return fmt.Errorf("create data dir %s: %w", opts.Dir, err)
	}
	src := opts.From
	if src == "" {
		tmp, err := os.MkdirTemp(opts.Dir, ".lepton-fetch-*")
		if err != nil {
			return fmt.Errorf("create download directory in %s: %w", opts.Dir, err)
		}
		defer os.RemoveAll(tmp)
		downloads := opts.downloads()
		for _, d := range downloads {
			if err := download(ctx, opts, l, d, filepath.Join(tmp, d.Name)); err != nil {
				return err
			}
		}
		src = tmp
		if len(downloads) == 1 { // the tarball itself
			src = filepath.Join(tmp, downloads[0].Name)
		}
	}
	n, copied, err := install(ctx, kind, l, src, opts.Dir)
	if err != nil {
		return err
	}
	if copied == 0 {
		progressf(opts.Progress, "%s is already installed in %s (same SHA-256): nothing copied\n", l.name, opts.Dir)
		return nil
	}
	progressf(opts.Progress, "installed %s (%d files) in %s\n", l.name, n, opts.Dir)
	return nil
}

// layoutOf returns the file layout of a fetchable kind.
func layoutOf(kind string) (layout, bool) {
	switch kind {
	case KindCIFAR10:
		return cifar10Layout, true
	case KindCIFAR100:
		return cifar100Layout, true
	case KindMNIST, KindFashionMNIST:
		return idxLayout(kind), true
	}
	return layout{}, false
}

// progressf writes a progress message to w if it is not nil. Progress
// output is best effort, so write errors are ignored.
func progressf(w io.Writer, format string, args ...any) {
	if w != nil {
		_, _ = fmt.Fprintf(w, format, args...)
	}
}

// OfflineError is returned by Fetch when a download cannot reach its
// server; it names the ways to install the data without a network.
type OfflineError struct {
	// URL is the download that failed.
	URL string
	// Kind is the data set being fetched.
	Kind string
	// Err is the network error.
	Err error
}

func (e *OfflineError) Error() string {
	hint := ""
	if e.Kind == KindFashionMNIST && isDir(DebianFashionMNIST) {
		hint = " (Debian's copy is in " + DebianFashionMNIST + ")"
	}
	return fmt.Sprintf("download %s: cannot reach the network (%v): copy the files onto this machine and run \"lepton data fetch %s --from PATH\"%s, or set %s to a directory holding them",
		e.URL, e.Err, e.Kind, hint, EnvDataDir)
}

// Unwrap returns the network error and ErrNoData.
func (e *OfflineError) Unwrap() []error { return []error{e.Err, ErrNoData} }

// download fetches d.URL into path and checks its SHA-256; on error the
// file is removed.
func download(ctx context.Context, opts FetchOptions, l layout, d Download, path string) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create download file %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(path)
		}
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.URL, nil)
	if err != nil {
		return fmt.Errorf("download %s: %w", d.URL, err)
	}
	resp, err := opts.Client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("download %s: %w", d.URL, ctx.Err())
		}
		return &OfflineError{URL: d.URL, Kind: opts.Kind, Err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("download %s: %s", d.URL, resp.Status)
	}
	h := sha256.New()
	w := io.MultiWriter(f, h)
	var bar *progressbar.ProgressBar
	if opts.Interactive && opts.Progress != nil {
		bar = newBytesBar(resp.ContentLength, "downloading "+d.Name, opts.Progress)
		w = io.MultiWriter(w, bar)
	} else {
		progressf(opts.Progress, "downloading %s\n", d.URL)
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
		return fmt.Errorf("download %s: %w", d.URL, err)
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return fmt.Errorf("download %s: got %d bytes, want %d", d.URL, n, resp.ContentLength)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	got := hex.EncodeToString(h.Sum(nil))
	if !strings.EqualFold(got, strings.TrimSpace(d.SHA256)) {
		return fmt.Errorf("download %s: SHA-256 mismatch: got %s, want %s", d.URL, got, d.SHA256)
	}
	progressf(opts.Progress, "downloaded %s (%d bytes), SHA-256 %s verified\n", d.Name, n, got)
	return nil
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

// sourceOf opens a data set of kind from a file set, as Open does from a
// location.
func sourceOf(kind string, set fileSet) (Source, error) {
	switch kind {
	case KindCIFAR10:
		return cifar10From(set)
	case KindCIFAR100:
		return cifar100From(set, LabelFine)
	default:
		return idxFrom(kind, set)
	}
}

// install validates the data set of kind at src and moves its files into
// dir: every file is first staged (validated, written, synced) as a hidden
// temporary file in dir; only when all are staged are they renamed into
// place. Files dir already holds with the same content are not copied. It
// returns the number of files and how many were copied.
func install(ctx context.Context, kind string, l layout, src, dir string) (n, copied int, err error) {
	set, err := openFiles(src, l, l.files)
	if err != nil {
		return 0, 0, err
	}
	s, err := sourceOf(kind, set)
	if err != nil {
		return 0, 0, err
	}
	for _, split := range []string{SplitTrain, SplitTest} {
		if _, err := s.Split(ctx, split); err != nil {
			return 0, 0, err
		}
	}
	var names []string
	for _, name := range l.files {
		if set.has(name) {
			names = append(names, name)
		}
	}
	staged := make(map[string]string) // name -> temporary path
	defer func() {
		if err != nil {
			for _, tmp := range staged {
				_ = os.Remove(tmp)
			}
		}
	}()
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return 0, 0, fmt.Errorf("install %s into %s: %w", l.name, dir, err)
		}
		raw, err := set.read(name, nil)
		if err != nil {
			return 0, 0, err
		}
		if sameContent(filepath.Join(dir, name), raw) {
			continue
		}
		tmp, err := stageFile(dir, name, func(w io.Writer) error {
			_, err := w.Write(raw)
			return err
		})
		if err != nil {
			return 0, 0, err
		}
		staged[name] = tmp
	}
	if err := ctx.Err(); err != nil {
		return 0, 0, fmt.Errorf("install %s into %s: %w", l.name, dir, err)
	}
	for _, name := range names {
		tmp, ok := staged[name]
		if !ok {
			continue
		}
		dst := filepath.Join(dir, name)
		if err := os.Rename(tmp, dst); err != nil {
			return 0, 0, fmt.Errorf("rename %s to %s: %w", tmp, dst, err)
		}
		delete(staged, name)
		copied++
	}
	return len(names), copied, syncDir(dir)
}

// sameContent reports whether the regular file at path holds exactly b
// (compared by SHA-256).
func sameContent(path string, b []byte) bool {
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() != int64(len(b)) {
		return false
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return false
	}
	want := sha256.Sum256(b)
	return string(h.Sum(nil)) == string(want[:])
}
