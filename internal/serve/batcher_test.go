package serve

import (
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lepton-cli/lepton/internal/data"
)

// gatedForward is a forward pass that counts its calls and their rows and
// holds the first call until released.
type gatedForward struct {
	calls   atomic.Int32
	mu      sync.Mutex
	rows    []int
	entered chan struct{}
	release chan struct{}
}

func newGatedForward() *gatedForward {
	return &gatedForward{entered: make(chan struct{}, 1), release: make(chan struct{})}
}

func (g *gatedForward) forward(m *Model, rows int, fill func(int, []float32), out func(int, []float32)) error {
	if g.calls.Add(1) == 1 {
		g.entered <- struct{}{}
		<-g.release
	}
	g.mu.Lock()
	g.rows = append(g.rows, rows)
	g.mu.Unlock()
	return runNet(m, rows, fill, out)
}

// TestBatchingOneForwardPass holds the first forward pass while eight
// requests queue up, then checks that they are answered by one pass.
func TestBatchingOneForwardPass(t *testing.T) {
	g := newGatedForward()
	srv := start(t, Options{Models: []ModelSpec{{Path: toyCheckpoint(t, 1)}}, MaxBatch: 64, forward: g.forward})
	body := fp32Body(testImage(1))
	var wg sync.WaitGroup
	codes := make(chan int, 9)
	post := func() {
		defer wg.Done()
		code, _ := do(t, "POST", srv.url+"/v2/models/toy/infer", "", strings.NewReader(body))
		codes <- code
	}
	wg.Add(1)
	go post()
	<-g.entered // the first request is in its forward pass
	for range 8 {
		wg.Add(1)
		go post()
	}
	b := srv.srv.reg.entries["toy"].batcher
	waitFor(t, "8 queued requests", func() bool { return len(b.queue) == 8 })
	close(g.release)
	wg.Wait()
	close(codes)
	for code := range codes {
		if code != 200 {
			t.Fatalf("a request answered %d", code)
		}
	}
	if g.rows[0] != 1 || len(g.rows) != 2 || g.rows[1] != 8 {
		t.Fatalf("forward passes of %v rows, want [1 8]", g.rows)
	}
	if got := metric(t, srv.url, `lepton_batch_size_count{model="toy"}`); got != 2 {
		t.Errorf("batch size histogram counted %v batches, want 2", got)
	}
}

// TestBatchesRespectMaxBatch checks that queued requests are split into
// passes of at most --max-batch images.
func TestBatchesRespectMaxBatch(t *testing.T) {
	g := newGatedForward()
	srv := start(t, Options{Models: []ModelSpec{{Path: toyCheckpoint(t, 1)}}, MaxBatch: 4, forward: g.forward})
	one, two := fp32Body(testImage(1)), fp32Body(testImage(1), testImage(2))
	var wg sync.WaitGroup
	post := func(body string) {
		defer wg.Done()
		if code, b := do(t, "POST", srv.url+"/v2/models/toy/infer", "", strings.NewReader(body)); code != 200 {
			t.Errorf("%d %s", code, b)
		}
	}
	wg.Add(1)
	go post(one)
	<-g.entered
	b := srv.srv.reg.entries["toy"].batcher
	for i, body := range []string{two, two, one, two} { // 7 images: [2 2] [1 2]
		wg.Add(1)
		go post(body)
		waitFor(t, "the queue to grow", func() bool { return len(b.queue) == i+1 })
	}
	close(g.release)
	wg.Wait()
	if len(g.rows) != 3 || g.rows[1] != 4 || g.rows[2] != 3 {
		t.Fatalf("forward passes of %v rows, want [1 4 3]", g.rows)
	}
}

// TestQueueFull holds the forward pass so that the queue (one slot) fills:
// the next request is answered 503 at once.
func TestQueueFull(t *testing.T) {
	g := newGatedForward()
	srv := start(t, Options{Models: []ModelSpec{{Path: toyCheckpoint(t, 1)}}, QueueSize: 1, forward: g.forward})
	body := fp32Body(testImage(1))
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if code, b := do(t, "POST", srv.url+"/v2/models/toy/infer", "", strings.NewReader(body)); code != 200 {
				t.Errorf("queued request: %d %s", code, b)
			}
		}()
		if g.calls.Load() == 0 {
			<-g.entered
		}
	}
	b := srv.srv.reg.entries["toy"].batcher
	waitFor(t, "a full queue", func() bool { return len(b.queue) == 1 })
	code, resp := do(t, "POST", srv.url+"/v2/models/toy/infer", "", strings.NewReader(body))
	if code != 503 || !strings.Contains(string(resp), "queue is full") {
		t.Fatalf("with a full queue: %d %s, want 503", code, resp)
	}
	close(g.release)
	wg.Wait()
}

// TestNoWaitWhenIdle sets an hour-long --max-delay: a lone request must
// still be answered at once (the test would time out otherwise).
func TestNoWaitWhenIdle(t *testing.T) {
	srv := start(t, Options{Models: []ModelSpec{{Path: toyCheckpoint(t, 1)}}, MaxDelay: time.Hour})
	for range 3 {
		if code, b := do(t, "POST", srv.url+"/v2/models/toy/infer", "", strings.NewReader(fp32Body(testImage(1)))); code != 200 {
			t.Fatalf("%d %s", code, b)
		}
	}
}

// TestDrain cancels the server while a request is in its forward pass:
// readiness turns 503 during the drain delay, the request finishes, and
// Run returns nil.
func TestDrain(t *testing.T) {
	g := newGatedForward()
	srv := start(t, Options{Models: []ModelSpec{{Path: toyCheckpoint(t, 1)}}, forward: g.forward, DrainDelay: 300 * time.Millisecond})
	done := make(chan int, 1)
	go func() {
		code, _ := do(t, "POST", srv.url+"/v2/models/toy/infer", "", strings.NewReader(fp32Body(testImage(1))))
		done <- code
	}()
	<-g.entered
	stopped := make(chan error, 1)
	go func() { stopped <- srv.stop(t) }()
	waitFor(t, "readiness off", func() bool {
		code, _ := do(t, "GET", srv.url+"/v2/health/ready", "", nil)
		return code == 503
	})
	close(g.release)
	if code := <-done; code != 200 {
		t.Fatalf("in-flight request answered %d during the drain", code)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if _, err := net.DialTimeout("tcp", strings.TrimPrefix(srv.url, "http://"), time.Second); err == nil {
		t.Fatal("still accepting connections after the drain")
	}
}

// TestSlowClient sends headers and part of a body, then stalls: the read
// timeout answers 408 instead of holding the server.
func TestSlowClient(t *testing.T) {
	srv := start(t, Options{Models: []ModelSpec{{Path: toyCheckpoint(t, 1)}}, ReadTimeout: 300 * time.Millisecond})
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.Write([]byte("POST /v2/models/toy/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"inputs\":"))
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 512)
	n, _ := conn.Read(buf)
	if !strings.HasPrefix(string(buf[:n]), "HTTP/1.1 408") {
		t.Fatalf("slow client got %q, want a 408", buf[:n])
	}
}

// TestWaitEndsWhenArrivalsStop has the batcher wait (an hour-long
// --max-delay) for a request that is being parsed; when that request
// gives up (a parse error: it never comes), the waiting batch runs.
func TestWaitEndsWhenArrivalsStop(t *testing.T) {
	var rows atomic.Int32
	forward := func(m *Model, n int, fill func(int, []float32), out func(int, []float32)) error {
		rows.Add(int32(n))
		return nil
	}
	m := &Model{Geometry: data.Geometry{Height: 1, Width: 1, Channels: 1}, Classes: []string{"a"}}
	met := newMetrics()
	b := newBatcher(4, 64, time.Hour, forward, nil, met.batchSize.WithLabelValues("x"), met.forward.WithLabelValues("x"), met.panics)
	go b.run()
	defer b.shutdown()
	b.arriving.Add(1) // another request is being parsed
	j := &job{model: m, rows: 1, x: make([]float32, 1), logits: make([]float32, 1), ctx: t.Context(), done: make(chan struct{}, 1)}
	if err := b.submit(j); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	if rows.Load() != 0 {
		t.Fatal("the batch ran while a request was still arriving")
	}
	b.arriving.Add(-1) // it failed to parse
	if answered, err := b.wait(j); !answered || err != nil {
		t.Fatalf("wait: %v %v", answered, err)
	}
}

// TestRunIdle checks when a request's forward pass runs on its own
// goroutine: only with nothing queued, nothing else arriving, no pass
// running and the batcher not stopping.
func TestRunIdle(t *testing.T) {
	var rows atomic.Int32
	forward := func(m *Model, n int, fill func(int, []float32), out func(int, []float32)) error {
		rows.Add(int32(n))
		return nil
	}
	m := &Model{Geometry: data.Geometry{Height: 1, Width: 1, Channels: 1}, Classes: []string{"a"}}
	met := newMetrics()
	b := newBatcher(4, 64, time.Hour, forward, nil, met.batchSize.WithLabelValues("x"), met.forward.WithLabelValues("x"), met.panics)
	newJob := func() *job {
		return &job{model: m, rows: 1, x: make([]float32, 1), logits: make([]float32, 1), ctx: t.Context(), done: make(chan struct{}, 1)}
	}
	j := newJob()
	if !b.runIdle(j) {
		t.Fatal("an idle batcher did not answer at once")
	}
	if answered, err := b.wait(j); !answered || err != nil || rows.Load() != 1 {
		t.Fatalf("wait: %v %v, %d rows", answered, err, rows.Load())
	}

	b.arriving.Add(1)
	if b.runIdle(newJob()) {
		t.Error("answered at once while another request was arriving")
	}
	b.arriving.Add(-1)

	if err := b.submit(newJob()); err != nil {
		t.Fatal(err)
	}
	if b.runIdle(newJob()) {
		t.Error("answered at once with a job queued")
	}
	<-b.queue

	b.exec.Lock() // a forward pass is running
	if b.runIdle(newJob()) {
		t.Error("answered at once during another forward pass")
	}
	b.exec.Unlock()

	go b.run()
	b.shutdown()
	if b.runIdle(newJob()) {
		t.Error("answered at once after shutdown")
	}
	if rows.Load() != 1 {
		t.Errorf("%d rows through the forward pass, want 1", rows.Load())
	}
}
