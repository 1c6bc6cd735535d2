package data

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// tarballOf returns the bytes and SHA-256 of an official-layout tarball of
// the data dir src.
func tarballOf(t *testing.T, src string) ([]byte, string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "c.tar.gz")
	writeTarGz(t, p, dirMembers(t, src, ArchiveDir+"/"))
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return b, hex.EncodeToString(sum[:])
}

// dirEntries lists the names in dir.
func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func serve(t *testing.T, body []byte) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/cifar.tar.gz" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestFetchDownload(t *testing.T) {
	src, train, test := writeTestDir(t, 25, 10)
	good, goodSum := tarballOf(t, src)
	badDir, _, _ := writeTestDir(t, 5, 5)
	raw := binBytes(t, synth(5, 2))
	raw[3*RecordSize] = 200
	writeFile(t, filepath.Join(badDir, TestFile), raw)
	bad, badSum := tarballOf(t, badDir)

	tests := []struct {
		name        string
		body        []byte
		path        string
		sum         string
		interactive bool
		wantErr     []string // substrings; nil means success
		wantOut     string
	}{
		{name: "plain progress", body: good, sum: goodSum, wantOut: "downloading http"},
		{name: "progress bar", body: good, sum: strings.ToUpper(goodSum), interactive: true, wantOut: "downloading cifar-10-binary.tar.gz"},
		{name: "wrong checksum", body: good, sum: strings.Repeat("ab", 32),
			wantErr: []string{"SHA-256 mismatch", "got " + goodSum, "want " + strings.Repeat("ab", 32)}},
		{name: "not found", body: good, path: "/missing", sum: goodSum, wantErr: []string{"404 Not Found"}},
		{name: "invalid content", body: bad, sum: badSum, wantErr: []string{"test_batch.bin: record 3: label 200 out of range 0..9"}},
		{name: "not a tarball", body: []byte("hello"), sum: hex.EncodeToString(func() []byte { s := sha256.Sum256([]byte("hello")); return s[:] }()),
			wantErr: []string{"open archive"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := serve(t, tc.body)
			path := "/cifar.tar.gz"
			if tc.path != "" {
				path = tc.path
			}
			dir := filepath.Join(t.TempDir(), "data")
			var out bytes.Buffer
			err := Fetch(context.Background(), FetchOptions{
				Dir: dir, URL: srv.URL + path, SHA256: tc.sum,
				Progress: &out, Interactive: tc.interactive, Client: srv.Client(),
			})
			if tc.wantErr != nil {
				if err == nil {
					t.Fatal("Fetch succeeded, want error")
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not contain %q", err, w)
					}
				}
				if es := dirEntries(t, dir); len(es) != 0 {
					t.Errorf("dir holds %v after a failed fetch, want nothing", es)
				}
				return
			}
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if got, want := dirEntries(t, dir), slices.Sorted(slices.Values(dataFiles(src))); !slices.Equal(got, want) {
				t.Errorf("dir holds %v, want %v", got, want)
			}
			gotTrain, err := LoadTrain(dir)
			if err != nil {
				t.Fatal(err)
			}
			equalDataset(t, gotTrain, train)
			gotTest, err := LoadTest(dir)
			if err != nil {
				t.Fatal(err)
			}
			equalDataset(t, gotTest, test)
			if !strings.Contains(out.String(), tc.wantOut) {
				t.Errorf("progress output %q does not contain %q", out.String(), tc.wantOut)
			}
		})
	}
}

func TestFetchFailureKeepsExistingData(t *testing.T) {
	dir, train, _ := writeTestDir(t, 10, 10)
	before := dirEntries(t, dir)
	badDir, _, _ := writeTestDir(t, 5, 5)
	writeFile(t, filepath.Join(badDir, "data_batch_5.bin"), []byte("xyz"))
	err := Fetch(context.Background(), FetchOptions{Dir: dir, From: badDir})
	if err == nil || err.Error() != "data dir "+badDir+": data_batch_5.bin: size 3 is not a multiple of 3073" {
		t.Fatalf("err = %v, want size error", err)
	}
	if got := dirEntries(t, dir); !slices.Equal(got, before) {
		t.Errorf("dir holds %v, want %v", got, before)
	}
	got, err := LoadTrain(dir)
	if err != nil {
		t.Fatal(err)
	}
	equalDataset(t, got, train)
}

func TestFetchFrom(t *testing.T) {
	src, train, test := writeTestDir(t, 17, 9)
	tb, _ := tarballOf(t, src)
	tarPath := filepath.Join(t.TempDir(), "cifar-10-binary.tar.gz")
	writeFile(t, tarPath, tb)
	parent := t.TempDir()
	if err := WriteDir(filepath.Join(parent, ArchiveDir), train, test); err != nil {
		t.Fatal(err)
	}
	incomplete, _, _ := writeTestDir(t, 5, 5)
	removeFile(t, filepath.Join(incomplete, MetaFile))

	tests := []struct {
		name    string
		from    string
		wantErr string
	}{
		{name: "directory", from: src},
		{name: "tarball", from: tarPath},
		{name: "official subdir", from: parent},
		{name: "missing meta", from: incomplete, wantErr: "data dir " + incomplete + ": batches.meta.txt: no such file"},
		{name: "nonexistent", from: filepath.Join(parent, "nope"), wantErr: "no CIFAR-10 data in " + filepath.Join(parent, "nope")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "a", "b")
			var out bytes.Buffer
			err := Fetch(context.Background(), FetchOptions{Dir: dir, From: tc.from, Progress: &out,
				Client: &http.Client{Transport: failTransport{t}}})
			if tc.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want prefix %q", err, tc.wantErr)
				}
				if es := dirEntries(t, dir); len(es) != 0 {
					t.Errorf("dir holds %v after a failed fetch", es)
				}
				return
			}
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if got, want := dirEntries(t, dir), slices.Sorted(slices.Values(dataFiles(src))); !slices.Equal(got, want) {
				t.Errorf("dir holds %v, want %v", got, want)
			}
			for _, name := range dataFiles(src) {
				a, _ := os.ReadFile(filepath.Join(src, name))
				b, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil || !bytes.Equal(a, b) {
					t.Errorf("%s differs from the source (err %v)", name, err)
				}
				fi, err := os.Stat(filepath.Join(dir, name))
				if err != nil || fi.Mode().Perm() != 0o644 {
					t.Errorf("%s: mode %v, want 0644 (err %v)", name, fi.Mode(), err)
				}
			}
			if !strings.Contains(out.String(), "installed CIFAR-10 (8 files) in "+dir) {
				t.Errorf("progress output = %q", out.String())
			}
		})
	}
}

// failTransport fails the test if any request is made.
type failTransport struct{ t *testing.T }

func (f failTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	f.t.Errorf("unexpected request to %s", r.URL)
	return nil, errors.New("no network in tests")
}

// recordTransport records the request URL and answers with a fixed body.
type recordTransport struct{ url *string }

func (rt recordTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	*rt.url = r.URL.String()
	return &http.Response{StatusCode: http.StatusOK, Status: "200 OK", Body: io.NopCloser(strings.NewReader("x")), ContentLength: 1, Request: r}, nil
}

func TestFetchDefaults(t *testing.T) {
	var got string
	dir := t.TempDir()
	err := Fetch(context.Background(), FetchOptions{Dir: dir, Client: &http.Client{Transport: recordTransport{&got}}})
	if got != DefaultURL {
		t.Errorf("requested %q, want %q", got, DefaultURL)
	}
	if err == nil || !strings.Contains(err.Error(), "want "+DefaultSHA256) {
		t.Errorf("err = %v, want a mismatch against the default checksum", err)
	}
	if es := dirEntries(t, dir); len(es) != 0 {
		t.Errorf("dir holds %v after a failed fetch", es)
	}
}

func TestFetchErrors(t *testing.T) {
	src, _, _ := writeTestDir(t, 3, 3)
	tb, sum := tarballOf(t, src)
	srv := serve(t, tb)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name   string
		ctx    context.Context
		opts   FetchOptions
		wantIs error
		want   string
	}{
		{name: "no dir", ctx: context.Background(), opts: FetchOptions{From: src}, want: "no data directory given"},
		{name: "cancelled download", ctx: cancelled, opts: FetchOptions{URL: srv.URL + "/cifar.tar.gz", SHA256: sum, Client: srv.Client()}, wantIs: context.Canceled},
		{name: "cancelled install", ctx: cancelled, opts: FetchOptions{From: src}, wantIs: context.Canceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var dir string
			if tc.name != "no dir" {
				dir = t.TempDir()
				tc.opts.Dir = dir
			}
			err := Fetch(tc.ctx, tc.opts)
			if err == nil {
				t.Fatal("Fetch succeeded, want error")
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("err = %v, want it to wrap %v", err, tc.wantIs)
			}
			if tc.want != "" && !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to contain %q", err, tc.want)
			}
			if dir != "" {
				if es := dirEntries(t, dir); len(es) != 0 {
					t.Errorf("dir holds %v after a failed fetch", es)
				}
			}
		})
	}
}
