package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/lepton-cli/lepton/internal/data"
	"github.com/lepton-cli/lepton/internal/imaging"
	"github.com/lepton-cli/lepton/internal/predict"
)

// upload is one image file of a request.
type upload struct {
	name string
	data []byte
}

// predict answers POST /v1/models/{name}/predict: image files (an image/*
// body, or multipart/form-data with one or more files), answered with the
// JSON Lines of "lepton predict --output json": one object per image.
// Query parameters: top_k (default 3), logits (true adds the raw logits).
func (s *server) predict(w http.ResponseWriter, r *http.Request, e *entry, m *Model) {
	k, logits, err := predictParams(r, len(m.Classes))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	files, err := s.uploads(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	in := m.Geometry.Size()
	j := newJob(r.Context(), m, len(files))
	for i, f := range files {
		pixels, err := s.decodeImage(f, m)
		if err != nil {
			j.release()
			s.fail(w, r, err)
			return
		}
		m.net.Stats.Normalize(j.x[i*in:(i+1)*in], pixels)
	}
	keep, err := s.run(e, j)
	if !keep {
		s.fail(w, r, err)
		return
	}
	defer j.release()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var out []byte
	classes := len(m.Classes)
	for i, f := range files {
		row := j.logits[i*classes : (i+1)*classes]
		res := predict.Result{Path: f.name, Top: predict.Top(m.Classes, row, k)}
		if logits {
			res.Logits = slices.Clone(row)
		}
		b, err := json.Marshal(res)
		if err != nil {
			s.fail(w, r, fmt.Errorf("encode prediction: %w", err))
			return
		}
		out = append(append(out, b...), '\n')
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Write(out)
}

// predictParams reads top_k and logits from the query.
func predictParams(r *http.Request, classes int) (k int, logits bool, err error) {
	q := r.URL.Query()
	k = 3
	if v := q.Get("top_k"); v != "" {
		k, err = strconv.Atoi(v)
		if err != nil || k < 1 {
			return 0, false, errorf(http.StatusBadRequest, "top_k=%q: want a positive integer", v)
		}
	}
	if v := q.Get("logits"); v != "" {
		logits, err = strconv.ParseBool(v)
		if err != nil {
			return 0, false, errorf(http.StatusBadRequest, "logits=%q: want true or false", v)
		}
	}
	return min(k, classes), logits, nil
}

// uploads reads the image files of a request: the body of an image/* (or
// application/octet-stream) request, or the file parts of a
// multipart/form-data one.
func (s *server) uploads(w http.ResponseWriter, r *http.Request) ([]upload, error) {
	ct := r.Header.Get("Content-Type")
	media, params, err := mime.ParseMediaType(ct)
	if ct != "" && err != nil {
		return nil, errorf(http.StatusBadRequest, "Content-Type %q: %v", ct, err)
	}
	switch {
	case media == "multipart/form-data":
		return s.multipartUploads(w, r, params["boundary"])
	case ct == "" || strings.HasPrefix(media, "image/") || media == "application/octet-stream":
		bp, err := s.readBody(w, r)
		if err != nil {
			return nil, err
		}
		data := bytes.Clone(*bp)
		s.putBody(bp)
		return []upload{{name: "-", data: data}}, nil
	}
	return nil, errorf(http.StatusUnsupportedMediaType, "Content-Type %q: send an image (image/png, image/jpeg, image/gif) or multipart/form-data with image files", ct)
}

func (s *server) multipartUploads(w http.ResponseWriter, r *http.Request, boundary string) ([]upload, error) {
	if boundary == "" {
		return nil, errorf(http.StatusBadRequest, "multipart/form-data without a boundary")
	}
	limit := s.opts.MaxBodyBytes
	if r.ContentLength > limit {
		return nil, errorf(http.StatusRequestEntityTooLarge, "request body of %d bytes is over the %d-byte limit", r.ContentLength, limit)
	}
	mr := multipart.NewReader(http.MaxBytesReader(w, r.Body, limit), boundary)
	var files []upload
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, partError(err, limit)
		}
		name := part.FileName()
		if name == "" && !strings.HasPrefix(part.Header.Get("Content-Type"), "image/") {
			part.Close() // a plain form field
			continue
		}
		if name == "" {
			name = part.FormName()
		}
		if len(files) == s.opts.MaxImages {
			return nil, errorf(http.StatusRequestEntityTooLarge, "more than %d images in one request", s.opts.MaxImages)
		}
		data, err := io.ReadAll(part)
		if err != nil {
			return nil, partError(err, limit)
		}
		files = append(files, upload{name: name, data: data})
	}
	if len(files) == 0 {
		return nil, errorf(http.StatusBadRequest, "multipart body has no image file")
	}
	return files, nil
}

func partError(err error, limit int64) error {
	var se *statusError
	if e := bodyError(err, limit); errors.As(e, &se) && se.code != http.StatusBadRequest {
		return e
	}
	return errorf(http.StatusBadRequest, "read multipart body: %v", err)
}

// decodeImage decodes an upload into the model's planar pixels. The pixel
// limit is checked from the header before decoding (413 when over it).
func (s *server) decodeImage(f upload, m *Model) ([]byte, error) {
	s.decode <- struct{}{}
	img, err := imaging.Decode(bytes.NewReader(f.data), s.opts.MaxPixels)
	<-s.decode
	var tooLarge *imaging.TooLargeError
	switch {
	case errors.As(err, &tooLarge) && tooLarge.Width > 0 && tooLarge.Height > 0:
		return nil, errorf(http.StatusRequestEntityTooLarge, "image %q: %v", f.name, err)
	case err != nil:
		return nil, errorf(http.StatusBadRequest, "image %q: %v", f.name, err)
	}
	return toPixels(img, m.Geometry, m.Fit), nil
}

// toPixels converts a decoded image to a model's planar input bytes:
// resized to its geometry as its training data was (fit), as lepton
// predict converts.
func toPixels(img image.Image, g data.Geometry, fit imaging.Fit) []byte {
	return imaging.Shape{Width: g.Width, Height: g.Height, Channels: g.Channels, Fit: fit}.Convert(img)
}
