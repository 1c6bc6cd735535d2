package atomicfile

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// dirNames lists the entry names of dir.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("read dir: %v", err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestWriteFile(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 3*bufSize/16+5) // > buffer size
	tests := []struct {
		name     string
		existing []byte // nil: no file before
		data     []byte
	}{
		{name: "new file", data: []byte("hello\n")},
		{name: "replace longer file", existing: []byte("a much longer old content"), data: []byte("short")},
		{name: "replace with empty", existing: []byte("old"), data: []byte{}},
		{name: "larger than buffer", existing: []byte("old"), data: big},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "f.bin")
			if tc.existing != nil {
				if err := os.WriteFile(path, tc.existing, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := WriteFile(path, tc.data, 0o644); err != nil {
				t.Fatalf("WriteFile: %v", err)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tc.data) {
				t.Errorf("content = %d bytes, want %d bytes", len(got), len(tc.data))
			}
			if names := dirNames(t, dir); len(names) != 1 || names[0] != "f.bin" {
				t.Errorf("directory holds %q, want only f.bin", names)
			}
		})
	}
}

func TestWriteStreams(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.txt")
	err := Write(path, 0o644, func(w io.Writer) error {
		for i := range 3 {
			if _, err := io.WriteString(w, strings.Repeat(string(rune('a'+i)), 2)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "aabbcc" {
		t.Errorf("content = %q, want %q", got, "aabbcc")
	}
}

func TestWriteFailureKeepsOldFile(t *testing.T) {
	errFill := errors.New("boom")
	tests := []struct {
		name    string
		fill    func(w io.Writer) error
		wantErr error
	}{
		{
			name: "fill fails after partial write",
			fill: func(w io.Writer) error {
				if _, err := w.Write([]byte("partial new content")); err != nil {
					return err
				}
				return errFill
			},
			wantErr: errFill,
		},
		{
			name: "fill fails after writing more than the buffer",
			fill: func(w io.Writer) error {
				if _, err := w.Write(make([]byte, 2*bufSize)); err != nil {
					return err
				}
				return errFill
			},
			wantErr: errFill,
		},
		{
			name:    "fill fails immediately",
			fill:    func(io.Writer) error { return errFill },
			wantErr: errFill,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "keep.txt")
			old := []byte("precious old content")
			if err := os.WriteFile(path, old, 0o600); err != nil {
				t.Fatal(err)
			}
			err := Write(path, 0o644, tc.fill)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Write error = %v, want wrapping %v", err, tc.wantErr)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name %s", err, path)
			}
			got, rerr := os.ReadFile(path)
			if rerr != nil {
				t.Fatal(rerr)
			}
			if !bytes.Equal(got, old) {
				t.Errorf("old file changed to %q", got)
			}
			if names := dirNames(t, dir); len(names) != 1 {
				t.Errorf("directory holds %q, want only keep.txt (temp file left behind)", names)
			}
		})
	}
}

func TestWritePanicRemovesTemp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "p.txt")
	func() {
		defer func() {
			if recover() == nil {
				t.Error("panic in fill was swallowed")
			}
		}()
		_ = Write(path, 0o644, func(w io.Writer) error {
			_, _ = w.Write([]byte("x"))
			panic("fill panicked")
		})
	}()
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("directory holds %q after panicking fill, want nothing", names)
	}
}

func TestWriteErrors(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(t *testing.T, dir string) string // returns target path
		wantIs error
		want   string
	}{
		{
			name: "missing directory",
			setup: func(t *testing.T, dir string) string {
				return filepath.Join(dir, "nope", "f.txt")
			},
			wantIs: fs.ErrNotExist,
			want:   "create temporary file",
		},
		{
			name: "target is a non-empty directory",
			setup: func(t *testing.T, dir string) string {
				target := filepath.Join(dir, "sub")
				if err := os.MkdirAll(filepath.Join(target, "child"), 0o755); err != nil {
					t.Fatal(err)
				}
				return target
			},
			want: "replace",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := tc.setup(t, dir)
			before := dirNames(t, dir)
			err := WriteFile(path, []byte("data"), 0o644)
			if err == nil {
				t.Fatal("WriteFile succeeded, want error")
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("error %v does not wrap %v", err, tc.wantIs)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("error %q should mention %q and %s", err, tc.want, path)
			}
			if after := dirNames(t, dir); strings.Join(after, ",") != strings.Join(before, ",") {
				t.Errorf("directory changed from %q to %q", before, after)
			}
		})
	}
}

func TestWriteNilFill(t *testing.T) {
	dir := t.TempDir()
	if err := Write(filepath.Join(dir, "x"), 0o644, nil); err == nil {
		t.Fatal("Write with nil fill succeeded")
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("directory holds %q, want nothing", names)
	}
}

func TestWritePerm(t *testing.T) {
	tests := []struct {
		name     string
		existing fs.FileMode // 0: no old file
		perm     fs.FileMode
	}{
		{name: "private new file", perm: 0o600},
		{name: "group readable new file", perm: 0o640},
		{name: "replacing a more open file", existing: 0o644, perm: 0o600},
		{name: "replacing a more private file", existing: 0o600, perm: 0o640},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "f")
			if tc.existing != 0 {
				if err := os.WriteFile(path, []byte("old"), tc.existing); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(path, tc.existing); err != nil {
					t.Fatal(err)
				}
			}
			if err := WriteFile(path, []byte("new"), tc.perm); err != nil {
				t.Fatalf("WriteFile: %v", err)
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			got := fi.Mode().Perm()
			// The umask may clear bits but never adds any; owner bits are
			// never masked in practice.
			if got&^tc.perm != 0 || got&0o600 != tc.perm&0o600 {
				t.Errorf("mode = %v, want %v (minus umask)", got, tc.perm)
			}
			if !fi.Mode().IsRegular() {
				t.Errorf("mode = %v, want regular file", fi.Mode())
			}
		})
	}
}
