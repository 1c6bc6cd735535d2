package main

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

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
