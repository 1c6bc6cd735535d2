package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// rawConn is one keep-alive HTTP/1.1 connection that sends prepared
// requests and reads whole responses. It does what a load generator such
// as wrk does, at a fraction of net/http's client CPU (no header maps, no
// goroutine per connection, no allocation per request), so that more of
// the cores it shares with the server go to the server being measured.
// Every response is read to its end and its status returned.
type rawConn struct {
	addr string
	c    net.Conn
	r    *bufio.Reader
}

// wire is the request as sent: request line, headers and body.
func (r request) wire(host string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n",
		r.path, host, r.contentType, len(r.body))
	b.Write(r.body)
	return b.Bytes()
}

func (rc *rawConn) close() {
	if rc.c != nil {
		rc.c.Close()
		rc.c = nil
	}
}

// do sends wire and returns the response's status code.
func (rc *rawConn) do(wire []byte) (int, error) {
	if rc.c == nil {
		c, err := net.DialTimeout("tcp", rc.addr, 10*time.Second)
		if err != nil {
			return 0, err
		}
		rc.c = c
		if rc.r == nil {
			rc.r = bufio.NewReaderSize(c, 16<<10)
		} else {
			rc.r.Reset(c)
		}
	}
	rc.c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := rc.c.Write(wire); err != nil {
		rc.close()
		return 0, err
	}
	code, keep, err := rc.response()
	if err != nil || !keep {
		rc.close()
	}
	return code, err
}

// response reads one response: status line, headers, a Content-Length body.
func (rc *rawConn) response() (code int, keep bool, err error) {
	line, err := rc.r.ReadSlice('\n')
	if err != nil {
		return 0, false, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return 0, false, fmt.Errorf("bad status line %q", line)
	}
	if code, err = strconv.Atoi(string(line[9:12])); err != nil {
		return 0, false, fmt.Errorf("bad status line %q", line)
	}
	length, keep := -1, true
	for {
		line, err := rc.r.ReadSlice('\n')
		if err != nil {
			return code, false, err
		}
		if len(line) <= 2 {
			break // the blank line ending the headers
		}
		name, value, _ := strings.Cut(string(bytes.TrimSpace(line)), ":")
		value = strings.TrimSpace(value)
		switch {
		case strings.EqualFold(name, "Content-Length"):
			if length, err = strconv.Atoi(value); err != nil {
				return code, false, fmt.Errorf("bad Content-Length %q", value)
			}
		case strings.EqualFold(name, "Connection") && strings.EqualFold(value, "close"):
			keep = false
		case strings.EqualFold(name, "Transfer-Encoding"):
			return code, false, errors.New("chunked responses are not supported")
		}
	}
	if length < 0 {
		return code, false, errors.New("response without Content-Length")
	}
	if _, err := rc.r.Discard(length); err != nil {
		return code, false, err
	}
	return code, keep, nil
}
