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
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type config struct {
	lepton, checkpoint string
	duration, warmup   time.Duration
	soak               time.Duration
	concurrency        []int
	maxRequests        int64
	modes              []string
	batching           []string
	strict             bool
	url                string
	serverArgs         []string
	client             string
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
	flag.StringVar(&c.client, "client", "raw", "load points' HTTP client: raw (keep-alive HTTP/1.1 with prepared requests, as wrk) or net/http")
	var batching string
	flag.StringVar(&batching, "batching", "on,off", "server batching: on (--max-batch default), off (--max-batch 1) or both")
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
	for _, b := range strings.Split(batching, ",") {
		if b != "on" && b != "off" {
			fmt.Fprintf(os.Stderr, "serveload: -batching %q: want on, off or on,off\n", batching)
			os.Exit(2)
		}
		c.batching = append(c.batching, b)
	}
	c.serverArgs = strings.Fields(serverArgs)
	if c.client != "raw" && c.client != "net/http" {
		fmt.Fprintf(os.Stderr, "serveload: -client %q: want raw or net/http\n", c.client)
		os.Exit(2)
	}
	if err := run(c); err != nil {
		fmt.Fprintln(os.Stderr, "serveload:", err)
		os.Exit(1)
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

// cores is CPU time used during the point, in cores busy on average.
func (r result) cores(cpu time.Duration) float64 { return cpu.Seconds() / r.elapsed.Seconds() }

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

// load sends reqs round-robin from conc workers for d (bounded by max),
// with net/http's client or, for kind "raw", one rawConn per worker.
func load(kind, base string, reqs []request, conc int, d time.Duration, max int64) result {
	client := newClient(conc)
	defer client.CloseIdleConnections()
	host := strings.TrimPrefix(base, "http://")
	wires := make([][]byte, len(reqs))
	for i, r := range reqs {
		wires[i] = r.wire(host)
	}
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
			rc := &rawConn{addr: host}
			defer rc.close()
			for i := w; ctx.Err() == nil && n.Add(1) <= max; i++ {
				t := time.Now()
				var code int
				var err error
				if kind == "raw" {
					code, err = rc.do(wires[i%len(wires)])
				} else {
					code, err = reqs[i%len(reqs)].do(client, base)
				}
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
	fmt.Printf("# lepton serve load benchmark: %s, %v per point (after %v warm-up), loopback, %s client\n\n", c.checkpoint, c.duration, c.warmup, c.client)
	fmt.Println("| input | batching | concurrency | requests | req/s | p50 ms | p99 ms | server peak RSS MB | server CPU cores | generator CPU cores | errors |")
	fmt.Println("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	rps := map[string]float64{}
	p99 := map[string]time.Duration{}
	if c.url != "" {
		for _, mode := range c.modes {
			for _, conc := range c.concurrency {
				load(c.client, c.url, byMode[mode], conc, c.warmup, c.maxRequests)
				gen := selfCPU()
				r := load(c.client, c.url, byMode[mode], conc, c.duration, c.maxRequests)
				fmt.Printf("| %s | ? | %d | %d | %.0f | %s | %s | ? | ? | %.2f | %d |\n", mode, conc, r.requests, r.rps(),
					ms(r.quantile(0.5)), ms(r.quantile(0.99)), r.cores(selfCPU()-gen), r.errors)
			}
		}
		return nil
	}
	for _, batching := range c.batching {
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
				load(c.client, srv.url, reqs, conc, c.warmup, c.maxRequests)
				srv.resetPeak()
				cpu, gen := srv.cpu(), selfCPU()
				r := load(c.client, srv.url, reqs, conc, c.duration, c.maxRequests)
				cpu, gen = srv.cpu()-cpu, selfCPU()-gen
				key := fmt.Sprintf("%s/%s/%d", mode, batching, conc)
				rps[key], p99[key] = r.rps(), r.quantile(0.99)
				fmt.Printf("| %s | %s | %d | %d | %.0f | %s | %s | %.0f | %.2f | %.2f | %d |\n", mode, batching, conc, r.requests, r.rps(),
					ms(r.quantile(0.5)), ms(r.quantile(0.99)), srv.status("VmHWM"), r.cores(cpu), r.cores(gen), r.errors)
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
