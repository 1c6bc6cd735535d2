package serve

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
)

// server holds what the handlers need; its methods are the handlers.
type server struct {
	opts    Options
	reg     *registry
	metrics *metrics
	auth    *authenticator
	log     *slog.Logger
	ready   atomic.Bool
	decode  chan struct{} // bounds concurrent image decodes (memory)
	bodies  sync.Pool     // *[]byte request bodies
	reqs    sync.Pool     // *inferRequest
	pixels  sync.Pool     // *[]byte UINT8 images in planar order
}

// maxPooledBody is the largest body buffer kept for reuse.
const maxPooledBody = 1 << 20

// statusError is an error answered with a status code.
type statusError struct {
	code int
	msg  string
}

func (e *statusError) Error() string { return e.msg }

func errorf(code int, format string, args ...any) *statusError {
	return &statusError{code: code, msg: fmt.Sprintf(format, args...)}
}

// fail answers err: its own status for a *statusError, else 500.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var se *statusError
	if errors.As(err, &se) {
		if se.code == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "1")
		}
		writeError(w, se.code, se.msg)
		return
	}
	s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	writeError(w, http.StatusInternalServerError, err.Error())
}

// routes builds the handler of every endpoint. Each route is instrumented
// (requests, latency, in-flight), recovers from panics, checks the method
// and, except for the health probes, the bearer token.
func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	handle := func(pattern, model, route, method string, open bool, h http.Handler) {
		if method != "" {
			h = allow(method, h)
		}
		if !open {
			h = s.auth.require(h)
		}
		mux.Handle(pattern, s.metrics.instrument(model, route, s.recoverer(h)))
	}
	get, post := http.MethodGet, http.MethodPost
	handle("/v2/health/live", "", "health_live", get, true, http.HandlerFunc(s.live))
	handle("/v2/health/ready", "", "health_ready", get, true, http.HandlerFunc(s.readiness))
	handle("/v2", "", "server_metadata", get, false, http.HandlerFunc(s.serverMetadata))
	handle("/metrics", "", "metrics", get, false, s.metrics.handler())
	for _, name := range s.reg.names {
		e := s.reg.entries[name]
		for _, base := range []string{"/v2/models/" + name, "/v2/models/" + name + "/versions/{version}"} {
			handle(base, name, "model_metadata", get, false, s.versioned(e, s.modelMetadata))
			handle(base+"/ready", name, "model_ready", get, false, s.versioned(e, s.modelReady))
			handle(base+"/infer", name, "infer", post, false, s.versioned(e, s.infer))
		}
		handle("/v1/models/"+name+"/predict", name, "predict", post, false, s.versioned(e, s.predict))
	}
	handle("/", "", "unknown", "", false, http.HandlerFunc(s.notFound))
	var h http.Handler = mux
	if s.opts.LogRequests {
		h = accessLog(s.log, h)
	}
	return s.recoverer(h)
}

// modelPath matches the model endpoints, to name an unknown model in 404s.
var modelPath = regexp.MustCompile(`^/v[12]/models/([^/]+)`)

func (s *server) notFound(w http.ResponseWriter, r *http.Request) {
	if m := modelPath.FindStringSubmatch(r.URL.Path); m != nil {
		writeError(w, http.StatusNotFound, fmt.Sprintf("model %q not found (serving: %s)", m[1], strings.Join(s.reg.names, ", ")))
		return
	}
	writeError(w, http.StatusNotFound, fmt.Sprintf("no endpoint %s", r.URL.Path))
}

// versioned resolves the model a request is for: the version being served,
// which must match the URL's version when there is one.
func (s *server) versioned(e *entry, h func(http.ResponseWriter, *http.Request, *entry, *Model)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m := e.cur.Load()
		if v := r.PathValue("version"); v != "" && v != m.Version {
			writeError(w, http.StatusNotFound, fmt.Sprintf("model %q has no version %q (serving version %s)", e.name, v, m.Version))
			return
		}
		h(w, r, e, m)
	})
}

func (s *server) live(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]bool{"live": true})
}

func (s *server) readiness(w http.ResponseWriter, r *http.Request) {
	if !s.ready.Load() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]bool{"ready": false})
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"ready": true})
}

func (s *server) serverMetadata(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, struct {
		Name       string   `json:"name"`
		Version    string   `json:"version"`
		Extensions []string `json:"extensions"`
	}{"lepton", s.opts.Version, []string{}})
}

// tensorMeta is the V2 protocol's $metadata_tensor.
type tensorMeta struct {
	Name     string `json:"name"`
	Datatype string `json:"datatype"`
	Shape    []int  `json:"shape"`
}

func (s *server) modelMetadata(w http.ResponseWriter, r *http.Request, e *entry, m *Model) {
	g, k := m.Geometry, len(m.Classes)
	writeJSON(w, http.StatusOK, struct {
		Name       string       `json:"name"`
		Versions   []string     `json:"versions"`
		Platform   string       `json:"platform"`
		Inputs     []tensorMeta `json:"inputs"`
		Outputs    []tensorMeta `json:"outputs"`
		Parameters any          `json:"parameters"`
	}{
		Name: m.Name, Versions: []string{m.Version}, Platform: "lepton_mlp",
		// One input, "input", in either of two forms.
		Inputs: []tensorMeta{
			{Name: inputName, Datatype: typeFP32, Shape: []int{-1, g.Size()}},
			{Name: inputName, Datatype: typeUINT8, Shape: []int{-1, g.Height, g.Width, g.Channels}},
		},
		Outputs: []tensorMeta{
			{Name: outputProbs, Datatype: typeFP32, Shape: []int{-1, k}},
			{Name: outputLogits, Datatype: typeFP32, Shape: []int{-1, k}},
		},
		Parameters: struct {
			Classes     []string `json:"classes"`
			InputLayout string   `json:"input_layout"`
			LoadedAt    string   `json:"loaded_at"`
		}{
			Classes:     m.Classes,
			InputLayout: "FP32: pixels/255, planar (all of channel 0 row by row, then channel 1, ...); UINT8: pixels 0..255 as [N, height, width, channels]",
			LoadedAt:    m.LoadedAt.UTC().Format("2006-01-02T15:04:05Z"),
		},
	})
}

func (s *server) modelReady(w http.ResponseWriter, r *http.Request, e *entry, m *Model) {
	ready := s.ready.Load()
	code := http.StatusOK
	if !ready {
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, struct {
		Name  string `json:"name"`
		Ready bool   `json:"ready"`
	}{m.Name, ready})
}

// readBody reads the request body into a pooled buffer, enforcing the
// size limit (413) and mapping a slow client's read timeout to 408.
func (s *server) readBody(w http.ResponseWriter, r *http.Request) (*[]byte, error) {
	limit := s.opts.MaxBodyBytes
	if r.ContentLength > limit {
		return nil, errorf(http.StatusRequestEntityTooLarge, "request body of %d bytes is over the %d-byte limit", r.ContentLength, limit)
	}
	rd := http.MaxBytesReader(w, r.Body, limit)
	bp, _ := s.bodies.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	buf := (*bp)[:0]
	if r.ContentLength > 0 && int64(cap(buf)) < r.ContentLength {
		buf = make([]byte, 0, r.ContentLength+1)
	}
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := rd.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			*bp = buf
			s.putBody(bp)
			return nil, bodyError(err, limit)
		}
	}
	*bp = buf
	return bp, nil
}

func (s *server) putBody(bp *[]byte) {
	if cap(*bp) <= maxPooledBody {
		s.bodies.Put(bp)
	}
}

// bodyError maps an error reading the body to its status.
func bodyError(err error, limit int64) error {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return errorf(http.StatusRequestEntityTooLarge, "request body is over the %d-byte limit", limit)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return errorf(http.StatusRequestTimeout, "request body not received in time")
	}
	return errorf(http.StatusBadRequest, "read request body: %v", err)
}

// run answers j at once when the entry's batcher is idle, else submits j
// to it, and waits for its answer. It returns false when j must not be
// released (the batcher stopped).
func (s *server) run(e *entry, j *job) (bool, error) {
	if !e.batcher.runIdle(j) {
		if err := e.batcher.submit(j); err != nil {
			return true, errorf(http.StatusServiceUnavailable, "%v", err)
		}
	}
	return s.wait(e, j)
}

// wait waits for a submitted job's answer; see run.
func (s *server) wait(e *entry, j *job) (bool, error) {
	answered, err := e.batcher.wait(j)
	switch {
	case !answered:
		return false, errorf(http.StatusServiceUnavailable, "%v", err)
	case err == nil:
		return true, nil
	case j.ctx.Err() != nil:
		return true, errorf(http.StatusServiceUnavailable, "request cancelled before inference: %v", err)
	}
	return true, err
}
