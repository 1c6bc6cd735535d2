package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lepton-cli/lepton/internal/checkpoint"
	"github.com/lepton-cli/lepton/internal/classifier"
	"github.com/lepton-cli/lepton/internal/config"
	"github.com/lepton-cli/lepton/internal/data"
	"github.com/lepton-cli/lepton/internal/imaging"
	"github.com/lepton-cli/lepton/internal/model"
)

// toyModel is a small MLP with random weights drawn from seed.
func toyModel(t testing.TB, seed uint64) *classifier.Model {
	t.Helper()
	cfg := config.Default()
	cfg.Name = "toy"
	cfg.Model.Input, cfg.Model.Classes = 3072, 10
	cfg.Model.Hidden = []int{16}
	p, err := model.NewParams(cfg.Model.Spec(), seed)
	if err != nil {
		t.Fatal(err)
	}
	stats := data.Stats{Mean: []float32{0.49, 0.48, 0.45}, Std: []float32{0.25, 0.24, 0.26}}
	return newModel(t, &cfg, p, data.CIFARGeometry, stats, data.DefaultClasses())
}

// newModel wraps parameters into a classifier that records cfg as its
// training config (where serve finds the default model name).
func newModel(t testing.TB, cfg *config.Config, p *model.Params, g data.Geometry, stats data.Stats, classes []string) *classifier.Model {
	t.Helper()
	m, err := classifier.New(cfg.Model.Spec(), p, g, stats, classes)
	if err != nil {
		t.Fatal(err)
	}
	y, err := cfg.YAML()
	if err != nil {
		t.Fatal(err)
	}
	m.TrainConfig = string(y)
	return m
}

// writeCheckpoint saves m to path atomically.
func writeCheckpoint(t testing.TB, path string, m *classifier.Model) {
	t.Helper()
	ck, err := m.Checkpoint(checkpoint.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if err := checkpoint.Save(path, ck); err != nil {
		t.Fatal(err)
	}
}

// toyCheckpoint writes toyModel(seed) to a new file and returns its path.
func toyCheckpoint(t testing.TB, seed uint64) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "toy.safetensors")
	writeCheckpoint(t, path, toyModel(t, seed))
	return path
}

// lines is an io.Writer that hands each written line to a channel.
type lines struct {
	mu  sync.Mutex
	buf bytes.Buffer
	ch  chan string
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	for {
		line, err := l.buf.ReadString('\n')
		if err != nil {
			l.buf.WriteString(line)
			return len(p), nil
		}
		select {
		case l.ch <- strings.TrimSpace(line):
		default:
		}
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent use (logs).
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// running is a server started by start.
type running struct {
	url    string
	srv    *server
	logs   *syncBuffer
	cancel context.CancelFunc
	done   chan struct{} // closed when Run returned
	err    error         // Run's error
}

// stop drains the server and returns Run's error.
func (r *running) stop(t testing.TB) error {
	t.Helper()
	r.cancel()
	select {
	case <-r.done:
		return r.err
	case <-time.After(30 * time.Second):
		t.Fatal("server did not stop within 30s")
		return nil
	}
}

// start runs a server on 127.0.0.1 with opts and waits until it is ready.
func start(t testing.TB, opts Options) *running {
	t.Helper()
	opts.Addr = "127.0.0.1:0"
	logs := &syncBuffer{}
	if opts.Log == nil {
		opts.Log = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	out := &lines{ch: make(chan string, 1)}
	opts.Stdout = out
	srvCh := make(chan *server, 1)
	opts.ready = func(s *server) { srvCh <- s }
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{logs: logs, cancel: cancel, done: make(chan struct{})}
	go func() {
		r.err = Run(ctx, opts)
		close(r.done)
	}()
	select {
	case addr := <-out.ch:
		r.url = "http://" + addr
		r.srv = <-srvCh
	case <-r.done:
		cancel()
		t.Fatalf("server did not start: %v", r.err)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("server not ready within 30s")
	}
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(30 * time.Second):
		}
	})
	return r
}

// fp32Body is a V2 request for images (planar bytes) as FP32 pixels/255.
func fp32Body(images ...[]byte) string {
	var b strings.Builder
	fmt.Fprintf(&b, `{"inputs":[{"name":"input","datatype":"FP32","shape":[%d,%d],"data":[`, len(images), imaging.Size)
	for i, img := range images {
		for j, v := range img {
			if i > 0 || j > 0 {
				b.WriteByte(',')
			}
			fmt.Fprint(&b, float32(v)/255)
		}
	}
	b.WriteString("]}]}")
	return b.String()
}

// uint8Body is a V2 request for images (planar bytes) as UINT8 [N,H,W,C].
func uint8Body(images ...[]byte) string {
	var b strings.Builder
	fmt.Fprintf(&b, `{"inputs":[{"name":"input","datatype":"UINT8","shape":[%d,%d,%d,3],"data":[`, len(images), imaging.Height, imaging.Width)
	first := true
	for _, img := range images {
		for p := range imaging.Plane {
			for c := range 3 {
				if !first {
					b.WriteByte(',')
				}
				first = false
				fmt.Fprint(&b, img[c*imaging.Plane+p])
			}
		}
	}
	b.WriteString("]}]}")
	return b.String()
}

// testImage is a deterministic planar image.
func testImage(seed int) []byte {
	img := make([]byte, imaging.Size)
	for i := range img {
		img[i] = byte((i*7 + seed*131 + i*i*seed) % 256)
	}
	return img
}

func pngBytes(t testing.TB, chw []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, imaging.FromCIFAR(chw)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// do sends a request and returns the status and body.
func do(t testing.TB, method, url, contentType string, body io.Reader, header ...string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// inferResponse is the V2 inference response.
type inferResponse struct {
	ModelName    string `json:"model_name"`
	ModelVersion string `json:"model_version"`
	ID           string `json:"id"`
	Outputs      []struct {
		Name     string    `json:"name"`
		Datatype string    `json:"datatype"`
		Shape    []int     `json:"shape"`
		Data     []float64 `json:"data"`
	} `json:"outputs"`
}

func decodeResponse(t testing.TB, b []byte) inferResponse {
	t.Helper()
	var r inferResponse
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("response %q: %v", b, err)
	}
	return r
}

// metric returns the value of a sample line of /metrics starting with
// prefix (name and labels), or -1 when there is none.
func metric(t testing.TB, base, prefix string, header ...string) float64 {
	t.Helper()
	code, b := do(t, "GET", base+"/metrics", "", nil, header...)
	if code != 200 {
		t.Fatalf("/metrics: %d %s", code, b)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, prefix) {
			var v float64
			fmt.Sscan(line[strings.LastIndexByte(line, ' ')+1:], &v)
			return v
		}
	}
	return -1
}

// waitFor polls cond every 10ms for up to 10s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

var errTest = errors.New("test")

// writeFileAtomic replaces path with b by rename, as checkpoint writes do.
func writeFileAtomic(t testing.TB, path string, b []byte) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func writeFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o600) }
