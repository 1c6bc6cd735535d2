package main

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// TestRawConn checks the load generator's raw client against net/http's
// server: status codes, whole bodies read so that the connection is
// reused, a new connection after "Connection: close", and errors for what
// it does not read (chunked bodies).
func TestRawConn(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch r.URL.Path {
		case "/ok":
			if string(body) != "ping" || r.Header.Get("Content-Type") != "text/plain" {
				http.Error(w, "bad request "+string(body), http.StatusBadRequest)
				return
			}
			pong := strings.Repeat("pong", 5000) // more than the reader's buffer
			w.Header().Set("Content-Length", strconv.Itoa(len(pong)))
			w.Write([]byte(pong))
		case "/close":
			w.Header().Set("Connection", "close")
			http.Error(w, "too large", http.StatusRequestEntityTooLarge)
		case "/chunked":
			w.Write([]byte("a"))
			w.(http.Flusher).Flush()
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	rc := &rawConn{addr: host}
	defer rc.close()
	req := func(path string) []byte {
		return request{path: path, contentType: "text/plain", body: []byte("ping")}.wire(host)
	}
	tests := []struct {
		path  string
		code  int
		err   bool
		conns int32 // connections opened so far
	}{
		{"/ok", 200, false, 1},
		{"/ok", 200, false, 1}, // the connection is reused
		{"/close", 413, false, 1},
		{"/ok", 200, false, 2}, // the server closed it: a new one
		{"/chunked", 200, true, 2},
		{"/ok", 200, false, 3},
	}
	for i, tc := range tests {
		code, err := rc.do(req(tc.path))
		if code != tc.code || (err != nil) != tc.err || conns.Load() != tc.conns {
			t.Fatalf("request %d %s: %d %v with %d connections; want %d, error %v, %d connections",
				i, tc.path, code, err, conns.Load(), tc.code, tc.err, tc.conns)
		}
	}
}
