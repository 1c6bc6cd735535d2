package data

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// serveFiles serves the files of dir under /mirror/.
func serveFiles(t *testing.T, dir string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.StripPrefix("/mirror/", http.FileServer(http.Dir(dir))))
	t.Cleanup(srv.Close)
	return srv
}

// downloadsOf lists the .gz IDX files of dir as downloads from srv, with
// their real digests.
func downloadsOf(t *testing.T, srv *httptest.Server, dir string) []Download {
	t.Helper()
	var out []Download
	for _, f := range IDXFiles() {
		b, err := os.ReadFile(filepath.Join(dir, f+".gz"))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		out = append(out, Download{URL: srv.URL + "/mirror/" + f + ".gz", SHA256: hex.EncodeToString(sum[:]), Name: f + ".gz"})
	}
	return out
}

// TestFetchIDX downloads the four IDX files of a (small) Fashion-MNIST
// from a local server, verifying each digest, and installs them; a second
// fetch of the same files copies nothing.
func TestFetchIDX(t *testing.T) {
	src, train, _ := writeIDXTestDir(t, 12, 4, true)
	srv := serveFiles(t, src)
	dir := filepath.Join(t.TempDir(), "fashion")
	var out bytes.Buffer
	opts := FetchOptions{Kind: KindFashionMNIST, Dir: dir, Downloads: downloadsOf(t, srv, src), Progress: &out, Client: srv.Client()}
	if err := Fetch(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, f := range IDXFiles() {
		want = append(want, f+".gz")
	}
	if got := dirEntries(t, dir); !slices.Equal(got, slices.Sorted(slices.Values(want))) {
		t.Fatalf("dir holds %v", got)
	}
	for _, w := range []string{"downloaded train-images-idx3-ubyte.gz", "SHA-256", "verified", "installed Fashion-MNIST (4 files) in " + dir} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("progress lacks %q:\n%s", w, out.String())
		}
	}
	s, err := Open(Spec{Kind: KindFashionMNIST, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Split(context.Background(), SplitTrain)
	if err != nil {
		t.Fatal(err)
	}
	train.Classes = FashionMNISTClasses()
	equalDataset(t, got, train)

	out.Reset()
	if err := Fetch(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "already installed in "+dir+" (same SHA-256): nothing copied") {
		t.Errorf("second fetch: %s", out.String())
	}
	// A wrong digest installs nothing.
	bad := downloadsOf(t, srv, src)
	bad[2].SHA256 = strings.Repeat("0", 64)
	other := filepath.Join(t.TempDir(), "other")
	err = Fetch(context.Background(), FetchOptions{Kind: KindMNIST, Dir: other, Downloads: bad, Client: srv.Client()})
	if err == nil || !strings.Contains(err.Error(), "SHA-256 mismatch") || !errors.Is(err, ErrInvalid) {
		t.Fatalf("err = %v", err)
	}
	if es := dirEntries(t, other); len(es) != 0 {
		t.Errorf("dir holds %v after a failed fetch", es)
	}
	// The official list: the four files under the official directory.
	var urls []string
	for _, d := range (FetchOptions{Kind: KindMNIST, URL: "http://m/x/"}).downloads() {
		urls = append(urls, d.URL)
	}
	if urls[0] != "http://m/x/train-images-idx3-ubyte.gz" || len(urls) != 4 {
		t.Errorf("mirror URLs %v", urls)
	}
}

// offlineTransport fails every request as an unreachable network does.
type offlineTransport struct{}

func (offlineTransport) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("dial tcp: lookup www.cs.toronto.edu: no such host")
}

func TestFetchOffline(t *testing.T) {
	for _, kind := range []string{KindCIFAR10, KindMNIST} {
		dir := t.TempDir()
		err := Fetch(context.Background(), FetchOptions{Kind: kind, Dir: dir, Client: &http.Client{Transport: offlineTransport{}}})
		var off *OfflineError
		if !errors.As(err, &off) || !errors.Is(err, ErrNoData) {
			t.Fatalf("%s: err = %v, want an OfflineError", kind, err)
		}
		for _, w := range []string{"cannot reach the network", `lepton data fetch ` + kind + ` --from PATH`, EnvDataDir, "no such host"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", kind, err, w)
			}
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("error is not one line: %q", err)
		}
		if es := dirEntries(t, dir); len(es) != 0 {
			t.Errorf("dir holds %v", es)
		}
	}
}

// TestFetchFromIDX imports local copies: a directory of the gzip'd files
// (as Debian's dataset-fashion-mnist installs them), uncompressed files,
// and the destination itself (nothing copied).
func TestFetchFromIDX(t *testing.T) {
	gzDir, train, _ := writeIDXTestDir(t, 10, 5, true)
	rawDir, _, _ := writeIDXTestDir(t, 10, 5, false)
	for _, from := range []string{gzDir, rawDir} {
		dir := t.TempDir()
		if err := Fetch(context.Background(), FetchOptions{Kind: KindFashionMNIST, Dir: dir, From: from, Client: &http.Client{Transport: failTransport{t}}}); err != nil {
			t.Fatal(err)
		}
		s, err := Open(Spec{Kind: KindFashionMNIST, Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Split(context.Background(), SplitTrain)
		if err != nil {
			t.Fatal(err)
		}
		train.Classes = FashionMNISTClasses()
		equalDataset(t, got, train)
	}
	var out bytes.Buffer
	if err := Fetch(context.Background(), FetchOptions{Kind: KindMNIST, Dir: gzDir, From: gzDir, Progress: &out}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "nothing copied") {
		t.Errorf("progress: %s", out.String())
	}
	// A broken copy is refused, naming the file.
	writeFile(t, filepath.Join(rawDir, idxTestLabels), []byte{0, 0, 8, 1, 0, 0, 0, 9, 1})
	err := Fetch(context.Background(), FetchOptions{Kind: KindMNIST, Dir: t.TempDir(), From: rawDir})
	if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), idxTestLabels) {
		t.Fatalf("err = %v", err)
	}
	if err := Fetch(context.Background(), FetchOptions{Kind: KindFolder, Dir: t.TempDir()}); err == nil {
		t.Fatal("fetched a folder")
	}
}

func TestFetchCIFAR100From(t *testing.T) {
	src := t.TempDir()
	train, _, _ := writeCIFAR100Dir(t, src, 20, 10)
	dir := t.TempDir()
	if err := Fetch(context.Background(), FetchOptions{Kind: KindCIFAR100, Dir: dir, From: src}); err != nil {
		t.Fatal(err)
	}
	s, err := Open(Spec{Kind: KindCIFAR100, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Split(context.Background(), SplitTrain)
	if err != nil {
		t.Fatal(err)
	}
	equalDataset(t, got, train)
	if d := Downloads(KindCIFAR100); len(d) != 1 || !strings.HasSuffix(d[0].URL, "cifar-100-binary.tar.gz") || len(d[0].SHA256) != 64 {
		t.Errorf("CIFAR-100 download %+v", d)
	}
}
