package regularfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// within runs f and fails the test if it does not return within a few
// seconds, so that a regression (a blocking open) fails instead of hanging.
func within(t *testing.T, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("still blocked after 10s")
	}
}

// fixture makes a directory with a regular file, a directory, a FIFO (on
// Unix) and symbolic links to each.
func fixture(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "file"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" {
		if err := mkfifo(filepath.Join(dir, "fifo")); err != nil {
			t.Fatalf("mkfifo: %v", err)
		}
		for _, name := range []string{"file", "dir", "fifo"} {
			if err := os.Symlink(name, filepath.Join(dir, "link-"+name)); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

func TestOpen(t *testing.T) {
	dir := fixture(t)
	tests := []struct {
		name    string
		path    string
		wantErr error  // nil: Open must succeed
		wantMsg string // the whole error message
		unix    bool   // needs a FIFO or a symlink
	}{
		{name: "regular file", path: "file"},
		{name: "symlink to a regular file", path: "link-file", unix: true},
		{name: "missing", path: "missing", wantErr: fs.ErrNotExist, wantMsg: "open DIR/missing: no such file or directory"},
		{name: "directory", path: "dir", wantErr: syscall.EISDIR, wantMsg: "open DIR/dir: is a directory"},
		{name: "symlink to a directory", path: "link-dir", wantErr: ErrNotRegular, wantMsg: "open DIR/link-dir: is a directory", unix: true},
		{name: "FIFO without a writer", path: "fifo", wantErr: ErrNotRegular, wantMsg: "open DIR/fifo: not a regular file", unix: true},
		{name: "symlink to a FIFO", path: "link-fifo", wantErr: ErrNotRegular, wantMsg: "open DIR/link-fifo: not a regular file", unix: true},
		{name: "character device", path: "/dev/null", wantErr: ErrNotRegular, wantMsg: "open /dev/null: not a regular file", unix: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.unix && runtime.GOOS == "windows" {
				t.Skip("no FIFOs, devices or symlinks here")
			}
			path := tc.path
			if !filepath.IsAbs(path) {
				path = filepath.Join(dir, path)
			}
			var f *os.File
			var err error
			within(t, func() { f, err = Open(path) })
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				defer f.Close()
				b := make([]byte, 16)
				if n, err := f.Read(b); err != nil || string(b[:n]) != "hello\n" {
					t.Fatalf("Read = %q, %v", b[:n], err)
				}
				return
			}
			if f != nil || err == nil {
				t.Fatalf("Open = %v, %v; want error", f, err)
			}
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("error %v does not wrap %v", err, tc.wantErr)
			}
			var pe *fs.PathError
			if !errors.As(err, &pe) || pe.Path != path {
				t.Errorf("error %v is not a *fs.PathError for %s", err, path)
			}
			if want := strings.ReplaceAll(tc.wantMsg, "DIR", dir); err.Error() != want {
				t.Errorf("error %q, want %q", err, want)
			}
		})
	}
}

func TestReadFile(t *testing.T) {
	dir := fixture(t)
	file := filepath.Join(dir, "file")
	tests := []struct {
		name    string
		path    string
		limit   int64
		want    string
		wantErr error
		wantMsg string
	}{
		{name: "under the limit", path: file, limit: 100, want: "hello\n"},
		{name: "at the limit", path: file, limit: 6, want: "hello\n"},
		{name: "over the limit", path: file, limit: 5, wantErr: ErrTooLarge, wantMsg: "read " + file + ": file is 6 bytes, more than the 5 allowed"},
		{name: "directory", path: filepath.Join(dir, "dir"), limit: 100, wantErr: ErrNotRegular},
		{name: "missing", path: filepath.Join(dir, "nope"), limit: 100, wantErr: fs.ErrNotExist},
	}
	if runtime.GOOS != "windows" {
		tests = append(tests,
			struct {
				name    string
				path    string
				limit   int64
				want    string
				wantErr error
				wantMsg string
			}{name: "FIFO", path: filepath.Join(dir, "fifo"), limit: 100, wantErr: ErrNotRegular, wantMsg: "open " + filepath.Join(dir, "fifo") + ": not a regular file"})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b []byte
			var err error
			within(t, func() { b, err = ReadFile(tc.path, tc.limit) })
			if tc.wantErr == nil {
				if err != nil || string(b) != tc.want {
					t.Fatalf("ReadFile = %q, %v; want %q", b, err, tc.want)
				}
				return
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("ReadFile error %v, want one wrapping %v", err, tc.wantErr)
			}
			if tc.wantMsg != "" && err.Error() != tc.wantMsg {
				t.Errorf("error %q, want %q", err, tc.wantMsg)
			}
		})
	}
}
