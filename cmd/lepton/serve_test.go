package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"math"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/lepton-cli/lepton/internal/data"
	"github.com/lepton-cli/lepton/internal/imaging"
)

// serveProc is a "lepton serve" process.
type serveProc struct {
	cmd    *exec.Cmd
	url    string
	stderr *lockedBuffer
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startServe starts bin serve args... on 127.0.0.1:0 and reads the bound
// address from its stdout.
func startServe(t *testing.T, bin string, args ...string) *serveProc {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	p := &serveProc{cmd: cmd, stderr: &lockedBuffer{}}
	cmd.Stderr = p.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		addr <- strings.TrimSpace(line)
		io.Copy(io.Discard, out)
	}()
	select {
	case a := <-addr:
		if a == "" {
			t.Fatalf("serve printed no address; stderr:\n%s", p.stderr)
		}
		p.url = "http://" + a
	case <-time.After(60 * time.Second):
		t.Fatalf("serve not ready within 60s; stderr:\n%s", p.stderr)
	}
	return p
}

// probabilities maps each predicted path's base name to its per-class
// probabilities, from JSON Lines with the top-k of every class.
func probabilities(t *testing.T, jsonl string, classes []string) map[string][]float64 {
	t.Helper()
	index := map[string]int{}
	for i, c := range classes {
		index[c] = i
	}
	out := map[string][]float64{}
	for _, line := range strings.Split(strings.TrimSpace(jsonl), "\n") {
		var r struct {
			Path string `json:"path"`
			Top  []struct {
				Class       string  `json:"class"`
				Probability float64 `json:"probability"`
			} `json:"top"`
			Error string `json:"error"`
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil || r.Error != "" || len(r.Top) != len(classes) {
			t.Fatalf("prediction line %q: %v", line, err)
		}
		p := make([]float64, len(classes))
		for _, c := range r.Top {
			p[index[c.Class]] = c.Probability
		}
		out[filepath.Base(r.Path)] = p
	}
	return out
}

// v2UINT8 is a V2 request of images (planar bytes) as UINT8 [N, H, W, C].
func v2UINT8(images [][]byte) string {
	var b strings.Builder
	fmt.Fprintf(&b, `{"inputs":[{"name":"input","datatype":"UINT8","shape":[%d,%d,%d,3],"data":[`, len(images), imaging.Height, imaging.Width)
	for i, img := range images {
		for p := range imaging.Plane {
			for c := range 3 {
				if i+p+c > 0 {
					b.WriteByte(',')
				}
				fmt.Fprint(&b, img[c*imaging.Plane+p])
			}
		}
	}
	b.WriteString("]}]}")
	return b.String()
}

func post(url, contentType string, body []byte) (int, []byte, error) {
	resp, err := http.Post(url, contentType, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// TestServeEndToEnd runs "lepton serve" as a process: its probabilities
// equal "lepton predict --output json"'s for the same checkpoint and
// images (to 1e-6, through /v1 and V2), a new checkpoint is picked up under
// traffic without a failed request, and SIGTERM drains and exits 0.
func TestServeEndToEnd(t *testing.T) {
	bin := buildLepton(t)
	dataDir, runDir := trainToy(t, t.TempDir(), "toy")
	test, err := data.LoadTest(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	// The served checkpoint is a copy that the test replaces later.
	served := filepath.Join(t.TempDir(), "served.safetensors")
	best, err := os.ReadFile(filepath.Join(runDir, "checkpoints", "best.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(served, best, 0o644)

	imgDir := t.TempDir()
	var images [][]byte
	var names []string
	for i := range 12 {
		img := test.Image(i)
		name := fmt.Sprintf("%02d.png", i)
		var b bytes.Buffer
		if err := encodePNG(&b, imaging.FromCIFAR(img)); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(imgDir, name), b.Bytes(), 0o644)
		images, names = append(images, img), append(names, name)
	}
	r := runCLI(t, nil, "predict", "--checkpoint", served, "--output", "json", "--top-k", "10", imgDir)
	if r.code != 0 {
		t.Fatalf("predict: exit %d %s", r.code, r.err)
	}
	want := probabilities(t, r.out, test.Classes)

	p := startServe(t, bin, "--checkpoint", served, "--name", "toy", "--drain-delay", "500ms", "--log-format", "json")

	// /v1: the same PNG files, several in one multipart request.
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	for _, name := range names {
		w, _ := mw.CreateFormFile("file", name)
		b, _ := os.ReadFile(filepath.Join(imgDir, name))
		w.Write(b)
	}
	mw.Close()
	code, body, err := post(p.url+"/v1/models/toy/predict?top_k=10", mw.FormDataContentType(), mp.Bytes())
	if err != nil || code != 200 {
		t.Fatalf("/v1 predict: %d %v %s", code, err, body)
	}
	got := probabilities(t, string(body), test.Classes)
	// V2: the decoded pixels as UINT8.
	code, body, err = post(p.url+"/v2/models/toy/infer", "application/json", []byte(v2UINT8(images)))
	if err != nil || code != 200 {
		t.Fatalf("/v2 infer: %d %v %s", code, err, body)
	}
	var v2 struct {
		ModelVersion string `json:"model_version"`
		Outputs      []struct {
			Data []float64 `json:"data"`
		} `json:"outputs"`
	}
	if err := json.Unmarshal(body, &v2); err != nil {
		t.Fatal(err)
	}
	maxDiff := 0.0
	for i, name := range names {
		for c := range test.Classes {
			maxDiff = math.Max(maxDiff, math.Abs(got[name][c]-want[name][c]))
			maxDiff = math.Max(maxDiff, math.Abs(v2.Outputs[0].Data[i*len(test.Classes)+c]-want[name][c]))
		}
	}
	if maxDiff > 1e-6 {
		t.Fatalf("served probabilities differ from lepton predict's by %g", maxDiff)
	}
	t.Logf("max |served - predict| probability difference: %g", maxDiff)

	// Reload under traffic: replace the checkpoint by rename while four
	// clients send requests; every request must succeed.
	second := filepath.Join(t.TempDir(), "second")
	if r := runCLI(t, nil, "train", "--config", writeConfig(t, toyConfig), "--data", dataDir, "--out", second, "--quiet", "--set", "seed=11"); r.code != 0 {
		t.Fatalf("train: %s", r.err)
	}
	next, err := os.ReadFile(filepath.Join(second, "checkpoints", "best.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	one := []byte(v2UINT8(images[:1]))
	var failed, sent atomic.Int64
	var lastVersion atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				sent.Add(1)
				code, b, err := post(p.url+"/v2/models/toy/infer", "application/json", one)
				if err != nil || code != 200 {
					failed.Add(1)
					t.Errorf("request during reload: %d %v %s", code, err, b)
					continue
				}
				var r struct {
					ModelVersion string `json:"model_version"`
				}
				json.Unmarshal(b, &r)
				lastVersion.Store(r.ModelVersion)
			}
		}()
	}
	time.Sleep(200 * time.Millisecond)
	tmp := served + ".tmp"
	os.WriteFile(tmp, next, 0o644)
	os.Rename(tmp, served)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if v, _ := lastVersion.Load().(string); v != "" && v != v2.ModelVersion {
			break
		}
		if time.Now().After(deadline) {
			close(stop)
			wg.Wait()
			t.Fatalf("the replaced checkpoint was not served within 20s; stderr:\n%s", p.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	close(stop)
	wg.Wait()
	if failed.Load() != 0 || sent.Load() < 8 {
		t.Fatalf("%d of %d requests failed during the reload", failed.Load(), sent.Load())
	}
	t.Logf("%d requests during the reload, none failed", sent.Load())

	// SIGTERM: requests sent before it finish, readiness turns 503 during
	// --drain-delay, and the process exits 0.
	inflight := make(chan error, 8)
	for range 8 {
		go func() {
			code, b, err := post(p.url+"/v2/models/toy/infer", "application/json", []byte(v2UINT8(images)))
			if err == nil && code != 200 {
				err = fmt.Errorf("%d %s", code, b)
			}
			inflight <- err
		}()
	}
	time.Sleep(20 * time.Millisecond)
	p.cmd.Process.Signal(syscall.SIGTERM)
	sawNotReady := false
	for range 40 {
		resp, err := http.Get(p.url + "/v2/health/ready")
		if err != nil {
			break
		}
		resp.Body.Close()
		if resp.StatusCode == 503 {
			sawNotReady = true
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	for range 8 {
		if err := <-inflight; err != nil {
			t.Errorf("in-flight request at SIGTERM: %v", err)
		}
	}
	err = p.cmd.Wait()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		t.Fatalf("serve exited %d after SIGTERM; stderr:\n%s", exit.ExitCode(), p.stderr)
	}
	if !sawNotReady {
		t.Errorf("readiness never reported 503 during the drain")
	}
	logs := p.stderr.String()
	for _, want := range []string{`"msg":"model reloaded"`, `"trigger":"file change"`, `"msg":"drained"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("stderr lacks %s:\n%s", want, logs)
		}
	}
}

// TestServeFlags checks the usage errors of "lepton serve".
func TestServeFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{name: "model without =", args: []string{"--model", "x"}, code: exitUsage, want: `--model "x": want NAME=CHECKPOINT`},
		{name: "model and checkpoint", args: []string{"--model", "a=b", "--checkpoint", "c"}, code: exitUsage, want: "cannot be combined"},
		{name: "bad name", args: []string{"--model", "a/b=c"}, code: exitUsage, want: `model name "a/b"`},
		{name: "same name twice", args: []string{"--model", "a=b", "--model", "a=c"}, code: exitUsage, want: `name "a" given twice`},
		{name: "bad log format", args: []string{"--checkpoint", "x", "--log-format", "xml"}, code: exitUsage, want: `--log-format "xml"`},
		{name: "negative batch", args: []string{"--checkpoint", "x", "--max-batch", "-1"}, code: exitUsage, want: "must be positive"},
		{name: "missing checkpoint", args: []string{"--checkpoint", "/nonexistent/x.safetensors"}, code: exitCheckpoint, want: "no such file"},
		{name: "argument", args: []string{"extra"}, code: exitUsage, want: "unknown command"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, nil, append([]string{"serve", "--addr", "127.0.0.1:0"}, tc.args...)...)
			if r.code != tc.code || !strings.Contains(r.err, tc.want) {
				t.Fatalf("exit %d, stderr %q; want %d with %q", r.code, r.err, tc.code, tc.want)
			}
		})
	}
}

func encodePNG(w io.Writer, img image.Image) error { return png.Encode(w, img) }
