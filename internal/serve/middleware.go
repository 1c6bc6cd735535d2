package serve

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"
)

// writeError answers {"error": msg} with the status code, the V2
// protocol's error object.
func writeError(w http.ResponseWriter, code int, msg string) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // messages quote '<' and '>' as they are
	enc.Encode(struct {
		Error string `json:"error"`
	}{msg})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	w.Write(b.Bytes())
}

// writeJSON answers v as JSON with the status code.
func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "encode response: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}

// recoverer turns a panic in h into a logged, counted 500, so that no
// panic reaches a client and the server keeps serving.
func (s *server) recoverer(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			p := recover()
			if p == nil {
				return
			}
			if p == http.ErrAbortHandler {
				panic(p) // the documented way to abort a response
			}
			s.metrics.panics.Inc()
			s.log.Error("panic in handler", "method", r.Method, "path", r.URL.Path,
				"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			writeError(w, http.StatusInternalServerError, "internal error")
		}()
		h.ServeHTTP(w, r)
	})
}

// allow answers 405 with an Allow header to methods other than method
// (HEAD is allowed with GET).
func allow(method string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != method && !(method == http.MethodGet && r.Method == http.MethodHead) {
			allowed := method
			if method == http.MethodGet {
				allowed = "GET, HEAD"
			}
			w.Header().Set("Allow", allowed)
			writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed on %s (allowed: %s)", r.Method, r.URL.Path, allowed))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// tokens are the accepted bearer tokens, kept as SHA-256 digests so that
// comparing them takes the same time whatever the length of a guess.
type tokens [][sha256.Size]byte

// readTokens reads a token file: one token a line, blank lines and lines
// starting with '#' ignored.
func readTokens(path string) (tokens, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--token-file: %w", err)
	}
	var t tokens
	for line := range strings.SplitSeq(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		t = append(t, sha256.Sum256([]byte(line)))
	}
	if len(t) == 0 {
		return nil, fmt.Errorf("--token-file %s: no token in the file", path)
	}
	return t, nil
}

// match reports whether token is one of t, in constant time.
func (t tokens) match(token string) bool {
	d := sha256.Sum256([]byte(token))
	ok := 0
	for i := range t {
		ok |= subtle.ConstantTimeCompare(d[:], t[i][:])
	}
	return ok == 1
}

// authenticator checks bearer tokens when a token file is configured.
type authenticator struct {
	path   string
	tokens atomic.Pointer[tokens] // nil: auth is off
}

// reload reads the token file again (on SIGHUP), keeping the old tokens
// when it cannot be read.
func (a *authenticator) reload() error {
	if a.path == "" {
		return nil
	}
	t, err := readTokens(a.path)
	if err != nil {
		return err
	}
	a.tokens.Store(&t)
	return nil
}

// require answers 401 to requests without a valid bearer token.
func (a *authenticator) require(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := a.tokens.Load()
		if t == nil {
			h.ServeHTTP(w, r)
			return
		}
		auth := r.Header.Get("Authorization")
		token, ok := strings.CutPrefix(auth, "Bearer ")
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="lepton"`)
			writeError(w, http.StatusUnauthorized, "missing bearer token (Authorization: Bearer <token>)")
			return
		}
		if !t.match(strings.TrimSpace(token)) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="lepton", error="invalid_token"`)
			writeError(w, http.StatusUnauthorized, "invalid bearer token")
			return
		}
		h.ServeHTTP(w, r)
	})
}

// statusWriter records the status code and size of a response.
type statusWriter struct {
	http.ResponseWriter
	code  int
	bytes int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// accessLog logs one line per request.
func accessLog(log *slog.Logger, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		log.Info("request", "method", r.Method, "path", r.URL.Path, "code", sw.code,
			"bytes", sw.bytes, "duration", time.Since(start), "remote", r.RemoteAddr)
	})
}
