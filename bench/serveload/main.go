// Command serveload is the load and fault benchmark of "lepton serve"
// (make bench-serve). It starts the server on loopback, measures
// single-image V2 FP32 requests and PNG uploads at several concurrencies
// with batching on and off (requests/s, p50/p99 latency, the server's
// peak RSS), then soaks it with valid requests interleaved with malformed
// ones (truncated JSON, wrong shapes, hostile PNG headers, oversized
// bodies, slow clients) and checks that no valid request failed, every
// malformed one was answered 4xx, nothing panicked and the RSS stayed
// flat. Every phase is bounded in time and request count; all traffic
// goes to 127.0.0.1.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

type config struct {
	lepton, checkpoint string
	duration, warmup   time.Duration
	soak               time.Duration
	concurrency        []int
	maxRequests        int64
	modes              []string
	strict             bool
	url                string
	serverArgs         []string
}

func main() {
	var c config
	var conc, modes string
	flag.StringVar(&c.lepton, "lepton", "bin/lepton", "lepton binary")
	flag.StringVar(&c.checkpoint, "checkpoint", "", "checkpoint to serve (configs/mlp.yaml's model)")
	flag.DurationVar(&c.duration, "duration", 20*time.Second, "measuring time per point")
	flag.DurationVar(&c.warmup, "warmup", 2*time.Second, "warm-up before each point")
	flag.DurationVar(&c.soak, "soak", 60*time.Second, "soak duration (0 skips the soak)")
	flag.StringVar(&conc, "concurrency", "1,8,64", "client concurrencies")
	flag.StringVar(&modes, "modes", "fp32,png", "request kinds: fp32 (V2 JSON), png (/v1 upload)")
	flag.Int64Var(&c.maxRequests, "max-requests", 2_000_000, "request cap per point")
	flag.BoolVar(&c.strict, "strict", false, "exit 1 when a throughput target is missed")
	var serverArgs string
	flag.StringVar(&serverArgs, "server-args", "", "more flags for lepton serve, space-separated (e.g. \"--threads 1\")")
	flag.StringVar(&c.url, "url", "", "load an already running server (model \"bench\") instead: the load points only")
	flag.Parse()
	if c.checkpoint == "" && c.url == "" {
		fmt.Fprintln(os.Stderr, "serveload: -checkpoint is required")
		os.Exit(2)
	}
	for _, s := range strings.Split(conc, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "serveload: -concurrency %q\n", conc)
			os.Exit(2)
		}
		c.concurrency = append(c.concurrency, n)
	}
	c.modes = strings.Split(modes, ",")
	c.serverArgs = strings.Fields(serverArgs)
	if err := run(c); err != nil {
		fmt.Fprintln(os.Stderr, "serveload:", err)
		os.Exit(1)
	}
}

// server is a running "lepton serve".
type server struct {
	cmd    *exec.Cmd
	url    string
	stderr *bytes.Buffer
	mu     *sync.Mutex
}

func startServer(c config, args ...string) (*server, error) {
	cmd := exec.Command(c.lepton, append([]string{"serve", "--checkpoint", c.checkpoint, "--name", "bench", "--addr", "127.0.0.1:0", "--log-level", "warn"}, append(c.serverArgs, args...)...)...)
	s := &server{cmd: cmd, stderr: &bytes.Buffer{}, mu: &sync.Mutex{}}
	cmd.Stderr = lockedWriter{s.mu, s.stderr}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(out).ReadString('\n')
		line <- strings.TrimSpace(l)
		io.Copy(io.Discard, out)
	}()
	select {
	case addr := <-line:
		if addr == "" {
			cmd.Process.Kill()
			return nil, fmt.Errorf("server did not start: %s", s.logs())
		}
		s.url = "http://" + addr
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		return nil, errors.New("server not ready within 60s")
	}
	return s, nil
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (s *server) logs() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stderr.String()
}

// stop sends SIGTERM and waits for a clean exit.
func (s *server) stop() error {
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("server exit after SIGTERM: %v", err)
		}
		return nil
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		return errors.New("server did not drain within 30s")
	}
}

// status reads a field of /proc/PID/status in MB (VmRSS, VmHWM).
func (s *server) status(field string) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb / 1024
		}
	}
	return -1
}

// resetPeak resets the server's peak RSS (VmHWM) to its current RSS.
func (s *server) resetPeak() {
	os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", s.cmd.Process.Pid), []byte("5"), 0)
}

// request is one prepared request.
type request struct {
	path, contentType string
	body              []byte
	slow              bool // trickle the body
	kind              string
}

func (r request) do(client *http.Client, base string) (int, error) {
	var body io.Reader = bytes.NewReader(r.body)
	if r.slow {
		body = &slowReader{b: r.body}
	}
	req, err := http.NewRequest("POST", base+r.path, body)
	if err != nil {
		return 0, err
	}
	if r.slow {
		req.ContentLength = int64(len(r.body))
	}
	req.Header.Set("Content-Type", r.contentType)
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// slowReader sends 16 bytes every 250 ms: a client slower than the
// server's read timeout.
type slowReader struct {
	b []byte
	i int
}

func (s *slowReader) Read(p []byte) (int, error) {
	if s.i >= len(s.b) {
		return 0, io.EOF
	}
	if s.i > 0 {
		time.Sleep(250 * time.Millisecond)
	}
	n := copy(p[:min(len(p), 16)], s.b[s.i:])
	s.i += n
	return n, nil
}

// images returns n random 32x32 planar images.
func images(n int) [][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	out := make([][]byte, n)
	for i := range out {
		img := make([]byte, 3072)
		for j := range img {
			img[j] = byte(rng.IntN(256))
		}
		out[i] = img
	}
	return out
}

func fp32Request(img []byte) request {
	var b bytes.Buffer
	b.WriteString(`{"inputs":[{"name":"input","shape":[1,3072],"datatype":"FP32","data":[`)
	for i, v := range img {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatFloat(float64(float32(v)/255), 'g', -1, 32))
	}
	b.WriteString("]}]}")
	return request{path: "/v2/models/bench/infer", contentType: "application/json", body: b.Bytes(), kind: "fp32"}
}

func pngRequest(img []byte) request {
	m := image.NewRGBA(image.Rect(0, 0, 32, 32))
	for p := range 1024 {
		m.Set(p%32, p/32, color.RGBA{img[p], img[1024+p], img[2048+p], 255})
	}
	var b bytes.Buffer
	png.Encode(&b, m)
	return request{path: "/v1/models/bench/predict", contentType: "image/png", body: b.Bytes(), kind: "png"}
}

// bombPNG is a PNG header claiming 100000 x 100000 pixels.
func bombPNG() []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], 100000)
	binary.BigEndian.PutUint32(ihdr[4:], 100000)
	ihdr[8], ihdr[9] = 8, 2
	chunk := append([]byte("IHDR"), ihdr...)
	binary.Write(&b, binary.BigEndian, uint32(13))
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

// malformed returns the soak's bad requests, one per kind.
func malformed(valid request, maxBody int) []request {
	wrongShape := bytes.Replace(valid.body, []byte("[1,3072]"), []byte("[1,3071]"), 1)
	return []request{
		{kind: "truncated JSON", path: valid.path, contentType: "application/json", body: valid.body[:len(valid.body)/2]},
		{kind: "wrong shape", path: valid.path, contentType: "application/json", body: wrongShape},
		{kind: "hostile PNG header", path: "/v1/models/bench/predict", contentType: "image/png", body: bombPNG()},
		{kind: "oversized body", path: valid.path, contentType: "application/json", body: make([]byte, maxBody+1)},
		{kind: "slow client", path: valid.path, contentType: "application/json", body: valid.body[:4096], slow: true},
	}
}

// result is one measured point.
type result struct {
	requests, errors int64
	elapsed          time.Duration
	latencies        []time.Duration
	firstErr         string
}

func (r result) rps() float64 { return float64(r.requests) / r.elapsed.Seconds() }

func (r result) quantile(q float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	return r.latencies[min(len(r.latencies)-1, int(q*float64(len(r.latencies))))]
}

func newClient(conc int) *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: conc * 2, MaxIdleConnsPerHost: conc * 2, DisableCompression: true, IdleConnTimeout: time.Minute,
	}}
}

// load sends reqs round-robin from conc workers for d (bounded by max).
func load(base string, reqs []request, conc int, d time.Duration, max int64) result {
	client := newClient(conc)
	defer client.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var n atomic.Int64
	var mu sync.Mutex
	var res result
	var wg sync.WaitGroup
	start := time.Now()
	for w := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := make([]time.Duration, 0, 1<<14)
			var errs int64
			var first string
			for i := w; ctx.Err() == nil && n.Add(1) <= max; i++ {
				t := time.Now()
				code, err := reqs[i%len(reqs)].do(client, base)
				lat = append(lat, time.Since(t))
				if err != nil || code != 200 {
					errs++
					if first == "" {
						first = fmt.Sprintf("%d %v", code, err)
					}
				}
			}
			mu.Lock()
			res.latencies = append(res.latencies, lat...)
			res.errors += errs
			if res.firstErr == "" {
				res.firstErr = first
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.requests = int64(len(res.latencies))
	slices.Sort(res.latencies)
	return res
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d.Microseconds())/1000) }

func run(c config) error {
	imgs := images(32)
	byMode := map[string][]request{}
	for _, img := range imgs {
		byMode["fp32"] = append(byMode["fp32"], fp32Request(img))
		byMode["png"] = append(byMode["png"], pngRequest(img))
	}
	fmt.Printf("# lepton serve load benchmark: %s, %v per point (after %v warm-up), loopback\n\n", c.checkpoint, c.duration, c.warmup)
	fmt.Println("| input | batching | concurrency | requests | req/s | p50 ms | p99 ms | server peak RSS MB | errors |")
	fmt.Println("|---|---|---:|---:|---:|---:|---:|---:|---:|")
	rps := map[string]float64{}
	p99 := map[string]time.Duration{}
	if c.url != "" {
		for _, mode := range c.modes {
			for _, conc := range c.concurrency {
				load(c.url, byMode[mode], conc, c.warmup, c.maxRequests)
				r := load(c.url, byMode[mode], conc, c.duration, c.maxRequests)
				fmt.Printf("| %s | ? | %d | %d | %.0f | %s | %s | ? | %d |\n", mode, conc, r.requests, r.rps(),
					ms(r.quantile(0.5)), ms(r.quantile(0.99)), r.errors)
			}
		}
		return nil
	}
	for _, batching := range []string{"on", "off"} {
		var args []string
		if batching == "off" {
			args = []string{"--max-batch", "1"}
		}
		srv, err := startServer(c, args...)
		if err != nil {
			return err
		}
		for _, mode := range c.modes {
			reqs, ok := byMode[mode]
			if !ok {
				srv.stop()
				return fmt.Errorf("unknown mode %q", mode)
			}
			for _, conc := range c.concurrency {
				load(srv.url, reqs, conc, c.warmup, c.maxRequests)
				srv.resetPeak()
				r := load(srv.url, reqs, conc, c.duration, c.maxRequests)
				key := fmt.Sprintf("%s/%s/%d", mode, batching, conc)
				rps[key], p99[key] = r.rps(), r.quantile(0.99)
				fmt.Printf("| %s | %s | %d | %d | %.0f | %s | %s | %.0f | %d |\n", mode, batching, conc, r.requests, r.rps(),
					ms(r.quantile(0.5)), ms(r.quantile(0.99)), srv.status("VmHWM"), r.errors)
				if r.errors > 0 {
					fmt.Printf("\nfirst error: %s\n", r.firstErr)
				}
			}
		}
		if err := srv.stop(); err != nil {
			return err
		}
	}
	missed := false
	check := func(ok bool, format string, args ...any) {
		verdict := "PASS"
		if !ok {
			verdict, missed = "MISS", true
		}
		fmt.Printf("- %s: %s\n", verdict, fmt.Sprintf(format, args...))
	}
	fmt.Println()
	if on, ok := rps["fp32/on/64"]; ok {
		check(on >= 5000 && p99["fp32/on/64"] <= 25*time.Millisecond,
			"V2 FP32 at concurrency 64 with batching: %.0f req/s (target >= 5000), p99 %s ms (target <= 25)", on, ms(p99["fp32/on/64"]))
		if off := rps["fp32/off/64"]; off > 0 {
			check(on >= 2*off, "batching on/off at concurrency 64: %.0f / %.0f = %.2fx (target >= 2x)", on, off, on/off)
		}
	}
	if c.soak > 0 {
		if err := soak(c, byMode["fp32"], byMode["png"]); err != nil {
			return err
		}
	}
	if missed && c.strict {
		return errors.New("a throughput target was missed")
	}
	return nil
}

// soak runs concurrency 64 for c.soak with 10% malformed requests.
func soak(c config, fp32, pngs []request) error {
	const maxBody = 1 << 20
	srv, err := startServer(c, "--max-body", strconv.Itoa(maxBody), "--read-timeout", "2s")
	if err != nil {
		return err
	}
	bad := malformed(fp32[0], maxBody)
	client := newClient(64)
	ctx, cancel := context.WithTimeout(context.Background(), c.soak)
	defer cancel()
	var (
		validSent, validFailed, badSent, badNot4xx atomic.Int64
		mu                                         sync.Mutex
		failures                                   = map[string]int{}
	)
	note := func(what string) {
		mu.Lock()
		if failures[what]++; failures[what] == 1 {
			fmt.Printf("  soak: %s\n", what)
		}
		mu.Unlock()
	}
	warm := min(10*time.Second, c.soak/6)
	var rssWarm float64
	go func() {
		select {
		case <-time.After(warm):
			rssWarm = srv.status("VmRSS")
		case <-ctx.Done():
		}
	}()
	var wg sync.WaitGroup
	var n atomic.Int64
	for w := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for ctx.Err() == nil && n.Add(1) <= c.maxRequests {
				if rng.IntN(10) == 0 {
					r := bad[rng.IntN(len(bad))]
					badSent.Add(1)
					code, err := r.do(client, srv.url)
					if err != nil || code < 400 || code > 499 {
						badNot4xx.Add(1)
						note(fmt.Sprintf("%s answered %d %v", r.kind, code, err))
					}
					continue
				}
				r := fp32[rng.IntN(len(fp32))]
				if rng.IntN(4) == 0 {
					r = pngs[rng.IntN(len(pngs))]
				}
				validSent.Add(1)
				if code, err := r.do(client, srv.url); err != nil || code != 200 {
					validFailed.Add(1)
					note(fmt.Sprintf("valid %s request answered %d %v", r.kind, code, err))
				}
			}
		}()
	}
	wg.Wait()
	rssEnd := srv.status("VmRSS")
	panics := strings.Count(srv.logs(), "panic")
	stopErr := srv.stop()
	growth := rssEnd/rssWarm - 1
	fmt.Printf("\n## soak: %v at concurrency 64, 10%% malformed\n\n", c.soak)
	fmt.Printf("valid requests %d, failed %d; malformed %d, not answered 4xx %d; panics logged %d; RSS after %v warm-up %.0f MB, at the end %.0f MB (%+.1f%%)\n",
		validSent.Load(), validFailed.Load(), badSent.Load(), badNot4xx.Load(), panics, warm, rssWarm, rssEnd, 100*growth)
	ok := validFailed.Load() == 0 && badNot4xx.Load() == 0 && panics == 0 && growth <= 0.10 && stopErr == nil
	if !ok {
		return fmt.Errorf("soak failed (drain: %v)", stopErr)
	}
	fmt.Println("- PASS: soak (zero failed valid requests, every malformed one 4xx, no panic, RSS within 10%, clean drain)")
	return nil
}
