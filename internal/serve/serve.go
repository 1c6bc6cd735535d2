// Package serve is lepton's model server: the KServe Open Inference
// Protocol (V2) REST API plus a /v1 endpoint taking image files, over
// trained checkpoints.
//
// Requests that arrive together are answered by one forward pass (a
// batcher per model with a bounded queue); checkpoints are reloaded
// without downtime on SIGHUP or when their file changes (a corrupt file is
// refused and the old model keeps serving); metrics are exported for
// Prometheus; shutdown turns readiness off and drains in-flight requests.
package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/lepton-cli/lepton/internal/imaging"
)

// Options configure a server. Zero values take the defaults in Defaults.
type Options struct {
	// Addr is the TCP address to listen on ("127.0.0.1:0" picks a port).
	Addr string
	// Models are the models to serve (at least one).
	Models []ModelSpec

	MaxBatch  int           // images per forward pass
	MaxDelay  time.Duration // longest wait for a batch to fill; 0 never waits
	QueueSize int           // requests waiting per model before 503

	MaxBodyBytes int64 // request body limit (413)
	MaxImages    int   // images per request (413)
	MaxPixels    int   // width*height of an uploaded image, checked before decoding (413)

	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration // whole request, body included (a slow client gets 408)
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	// DrainDelay is how long readiness reports 503 before the listener
	// closes, so that load balancers stop sending first.
	DrainDelay time.Duration
	// DrainTimeout bounds the whole shutdown; requests still running then
	// are cut and Run returns an error.
	DrainTimeout time.Duration

	// TokenFile, when set, holds the bearer tokens (one a line) that every
	// endpoint but /v2/health/* requires.
	TokenFile string
	// Watch reloads a model when its checkpoint file changes.
	Watch bool
	// Reload triggers a reload of every model (and of the token file), e.g.
	// on SIGHUP.
	Reload <-chan os.Signal
	// LogRequests logs one line per request.
	LogRequests bool
	// Version is the server version reported by GET /v2.
	Version string

	// Log receives the server's logs; Stdout receives the bound address
	// once the server is ready.
	Log    *slog.Logger
	Stdout io.Writer

	// forward replaces the network's forward pass (tests).
	forward forwardFunc
	// ready is called with the running server (tests).
	ready func(*server)
}

// Defaults are the option values used for zero fields.
var Defaults = Options{
	Addr:              "127.0.0.1:8080",
	MaxBatch:          64,
	MaxDelay:          2 * time.Millisecond,
	QueueSize:         1024,
	MaxBodyBytes:      16 << 20,
	MaxImages:         64,
	MaxPixels:         16 << 20,
	ReadHeaderTimeout: 5 * time.Second,
	ReadTimeout:       30 * time.Second,
	WriteTimeout:      30 * time.Second,
	IdleTimeout:       120 * time.Second,
	DrainTimeout:      20 * time.Second,
}

func (o Options) withDefaults() Options {
	d := Defaults
	set := func(v *int, def int) {
		if *v == 0 {
			*v = def
		}
	}
	setDur := func(v *time.Duration, def time.Duration) {
		if *v == 0 {
			*v = def
		}
	}
	if o.Addr == "" {
		o.Addr = d.Addr
	}
	set(&o.MaxBatch, d.MaxBatch)
	set(&o.QueueSize, d.QueueSize)
	set(&o.MaxImages, d.MaxImages)
	set(&o.MaxPixels, d.MaxPixels)
	if o.MaxBodyBytes == 0 {
		o.MaxBodyBytes = d.MaxBodyBytes
	}
	setDur(&o.ReadHeaderTimeout, d.ReadHeaderTimeout)
	setDur(&o.ReadTimeout, d.ReadTimeout)
	setDur(&o.WriteTimeout, d.WriteTimeout)
	setDur(&o.IdleTimeout, d.IdleTimeout)
	setDur(&o.DrainTimeout, d.DrainTimeout)
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Stdout == nil {
		o.Stdout = io.Discard
	}
	if o.forward == nil {
		o.forward = runNet
	}
	return o
}

// Check reports options that cannot work.
func (o Options) Check() error {
	switch {
	case len(o.Models) == 0:
		return errors.New("no model to serve (--checkpoint or --model NAME=CHECKPOINT)")
	case o.MaxBatch < 0 || o.QueueSize < 0 || o.MaxImages < 0 || o.MaxPixels < 0 || o.MaxBodyBytes < 0:
		return errors.New("--max-batch, --queue, --max-images, --max-pixels and --max-body must be positive")
	case o.MaxDelay < 0 || o.DrainDelay < 0 || o.DrainTimeout < 0 || o.ReadTimeout < 0 ||
		o.WriteTimeout < 0 || o.IdleTimeout < 0 || o.ReadHeaderTimeout < 0:
		return errors.New("durations must not be negative")
	case o.MaxPixels > imaging.MaxPixels:
		return fmt.Errorf("--max-pixels %d: at most %d", o.MaxPixels, imaging.MaxPixels)
	}
	return nil
}

// Run loads the models, serves until ctx is done, then drains: readiness
// turns 503, after DrainDelay the listener closes, in-flight requests
// finish, and Run returns nil, or an error when DrainTimeout ran out.
// The bound address is written to Stdout, one line, once the server is
// ready.
func Run(ctx context.Context, opts Options) error {
	if err := opts.Check(); err != nil {
		return err
	}
	opts = opts.withDefaults()
	log := opts.Log
	met := newMetrics()
	reg, err := newRegistry(opts.Models, opts.MaxBatch, log, met)
	if err != nil {
		return err
	}
	s := &server{
		opts: opts, reg: reg, metrics: met, log: log,
		auth:   &authenticator{path: opts.TokenFile},
		decode: make(chan struct{}, runtime.GOMAXPROCS(0)),
	}
	if err := s.auth.reload(); err != nil {
		return err
	}
	for _, name := range reg.names {
		e := reg.entries[name]
		e.batcher = newBatcher(opts.QueueSize, opts.MaxBatch, opts.MaxDelay, opts.forward, log,
			met.batchSize.WithLabelValues(name), met.forward.WithLabelValues(name), met.panics)
		met.queueDepth(name, e.batcher)
	}
	srv := &http.Server{
		Handler:           s.routes(),
		ReadHeaderTimeout: opts.ReadHeaderTimeout,
		ReadTimeout:       opts.ReadTimeout,
		WriteTimeout:      opts.WriteTimeout,
		IdleTimeout:       opts.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", opts.Addr, err)
	}

	g, gctx := errgroup.WithContext(ctx)
	for _, name := range reg.names {
		b := reg.entries[name].batcher
		g.Go(func() error { b.run(); return nil })
	}
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve: %w", err)
		}
		return nil
	})
	g.Go(func() error { return s.watch(gctx) })
	g.Go(func() error { return s.drain(gctx, srv) })

	s.ready.Store(true)
	fmt.Fprintln(opts.Stdout, ln.Addr().String())
	log.Info("serving", "addr", ln.Addr().String(), "models", reg.names,
		"max_batch", opts.MaxBatch, "max_delay", opts.MaxDelay, "auth", opts.TokenFile != "")
	if opts.ready != nil {
		opts.ready(s)
	}
	err = g.Wait()
	if err == nil {
		log.Info("stopped")
	}
	return err
}

// drain waits for ctx, then shuts the server down: readiness off, the
// drain delay, Shutdown (no new connections, in-flight requests finish),
// then the batchers.
func (s *server) drain(ctx context.Context, srv *http.Server) error {
	<-ctx.Done()
	s.ready.Store(false)
	start := time.Now()
	s.log.Info("draining: readiness is off", "drain_delay", s.opts.DrainDelay, "drain_timeout", s.opts.DrainTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), s.opts.DrainTimeout)
	defer cancel()
	select {
	case <-time.After(min(s.opts.DrainDelay, s.opts.DrainTimeout)):
	case <-sctx.Done():
	}
	err := srv.Shutdown(sctx)
	for _, name := range s.reg.names {
		s.reg.entries[name].batcher.shutdown()
	}
	if err != nil {
		srv.Close()
		return fmt.Errorf("drain: requests still running after --drain-timeout %v: %w", s.opts.DrainTimeout, err)
	}
	s.log.Info("drained", "took", time.Since(start).Round(time.Millisecond))
	return nil
}
